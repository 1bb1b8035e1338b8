"""A small character-level causal transformer and a corpus that ships with Python.

Used by :mod:`infolens.bench.attention` to test, at a size that trains on two
CPU cores in minutes, whether removing the feed-forward nonlinearity changes
the attention entropy of the heads (arXiv 2410.09637, 2501.03489).

* :func:`stdlib_corpus`: the docstrings of a fixed list of standard-library
  modules and their public members, joined in a fixed order: the same text on
  every machine with the same Python minor version, no download.
* :func:`make_model`: pre-norm blocks (LayerNorm → causal multi-head attention
  → residual; LayerNorm → feed-forward → residual), written out by hand so that
  every layer's attention probabilities, of shape (batch, heads, T, T), can be
  returned.  ``activation="gelu"`` is the standard block; ``"identity"``
  removes the only nonlinearity of the feed-forward network.

torch is imported through :mod:`infolens.core.optional`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import copy
import csv
import dataclasses
import datetime
import decimal
import email
import enum
import fractions
import functools
import heapq
import inspect
import io
import itertools
import json
import logging
import math
import os
import pathlib
import random
import re
import shutil
import socket
import statistics
import string
import subprocess
import tarfile
import textwrap
import threading
import typing
import unittest
import urllib.parse
import uuid
import warnings
import zipfile

import numpy as np

from infolens.core import optional

__all__ = ["ACTIVATIONS", "CORPUS_MODULES", "encode", "make_model", "stdlib_corpus"]

#: Standard-library modules whose docstrings form the corpus (fixed order).
CORPUS_MODULES = (argparse, asyncio, collections, contextlib, csv, dataclasses, datetime,
                  decimal, email, enum, fractions, functools, heapq, inspect, io, itertools,
                  json, logging, os, pathlib, copy, random, re, shutil, socket, statistics,
                  string, subprocess, tarfile, textwrap, threading, typing, unittest,
                  urllib.parse, uuid, zipfile)

#: Feed-forward activations: the standard GELU, or none at all.
ACTIVATIONS = ("gelu", "identity")


def stdlib_corpus(max_chars=400_000):
    """Docstrings of :data:`CORPUS_MODULES`, printable ASCII, at most ``max_chars`` characters."""
    pieces = []
    with warnings.catch_warnings():          # deprecated aliases (typing.re ...) warn on access
        warnings.simplefilter("ignore")
        for module in CORPUS_MODULES:
            pieces.append(inspect.getdoc(module) or "")
            for attr in sorted(vars(module)):
                member = getattr(module, attr)
                if attr.startswith("_") or getattr(member, "__module__", None) != module.__name__:
                    continue
                pieces.append(inspect.getdoc(member) or "")
    text = "\n\n".join(p for p in pieces if p)
    text = "".join(ch if 32 <= ord(ch) < 127 or ch == "\n" else "?" for ch in text)
    return text[:max_chars]


def encode(text):
    """Character codes and the vocabulary: (int64 array of shape (len(text),), sorted chars)."""
    vocabulary = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocabulary)}
    return np.array([index[ch] for ch in text], dtype=np.int64), vocabulary


def make_model(vocab_size, *, d_model=64, n_heads=4, n_layers=3, context=64,
               activation="gelu"):
    """A causal character model that can return every layer's attention probabilities.

    Calling ``model(tokens, return_attention=True)`` on int64 tokens of shape
    (batch, T ≤ context) gives ``(logits, [A_0, ..., A_{L-1}])`` with each
    ``A_l`` of shape (batch, heads, T, T), rows summing to 1 over keys 0..i.
    """
    torch = optional.torch("the attention benchmark")
    nn = torch.nn
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.out = nn.Linear(d_model, d_model)
            self.ff_in, self.ff_out = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model,
                                                                                 d_model)
            self.act = nn.GELU() if activation == "gelu" else nn.Identity()

        def forward(self, x, causal_mask):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, n_heads, -1).permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
            probs = torch.softmax(scores.masked_fill(causal_mask[:t, :t], float("-inf")), -1)
            x = x + self.out((probs @ v).transpose(1, 2).reshape(b, t, d_model))
            x = x + self.ff_out(self.act(self.ff_in(self.norm2(x))))
            return x, probs

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, d_model)
            self.position = nn.Parameter(0.02 * torch.randn(context, d_model))
            self.blocks = nn.ModuleList(Block() for _ in range(n_layers))
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab_size)
            self.register_buffer("causal_mask", torch.ones(context, context,
                                                           dtype=torch.bool).triu(1))

        def forward(self, tokens, return_attention=False):
            x = self.embed(tokens) + self.position[:tokens.shape[1]]
            attention = []
            for block in self.blocks:
                x, probs = block(x, self.causal_mask)
                attention.append(probs)
            logits = self.head(self.norm(x))
            return (logits, attention) if return_attention else logits

    return CharTransformer()
