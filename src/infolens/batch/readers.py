"""Read a manifest file (CSV or YAML) into entry mappings and default measures; see
:mod:`infolens.batch.manifest` for what an entry holds."""

from __future__ import annotations

import csv
import json

from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["read_csv", "read_yaml"]


def _coerce_cell(value):
    value = value.strip()
    if value == "":
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def read_csv(path):
    """Entries of a CSV manifest (one task per row); no default measures."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(row for row in fh if not row.lstrip().startswith("#"))
        if not reader.fieldnames or "measure" not in reader.fieldnames:
            raise InvalidParameterError(
                f"CSV manifest {str(path)!r} needs a header with a 'measure' column (and "
                f"'embeddings' or 'checkpoint'/'factory'/'model' + 'probe'); got columns "
                f"{reader.fieldnames}."
            )
        entries = []
        for line, row in enumerate(reader, start=2):
            entry = {}
            for key, value in row.items():
                if key is None:
                    raise InvalidParameterError(
                        f"{str(path)!r} line {line} has more cells than the header."
                    )
                value = _coerce_cell(value or "")
                if value is None:
                    continue
                if key in ("embeddings", "labels", "checkpoint", "factory", "probe", "model",
                           "layer", "name"):
                    value = str(value)
                entry[key] = value
            params = entry.pop("params", None)
            if params is not None:
                try:
                    params = json.loads(str(params))
                except json.JSONDecodeError as exc:
                    raise InvalidParameterError(
                        f"{str(path)!r} line {line}: the 'params' cell must be a JSON object such "
                        f"as {{\"t\": 2}}; {exc}."
                    ) from None
            kwargs = entry.get("factory_kwargs")
            if kwargs is not None:
                entry["factory_kwargs"] = json.loads(str(kwargs))
            entry["measures"] = [{"name": entry.pop("measure"), "params": params or {}}]
            entries.append(entry)
    return entries, None


def read_yaml(path):
    """Entries and default measures of a YAML manifest."""
    try:
        yaml = optional.yaml()
    except ImportError:
        raise InvalidParameterError(
            "Reading a YAML manifest needs PyYAML: pip install 'infolens[dask]' (or pyyaml), "
            "or write the manifest as CSV."
        ) from None
    with open(path, encoding="utf-8-sig") as fh:
        try:
            doc = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise InvalidParameterError(
                f"{str(path)!r} is not valid YAML: {' '.join(str(exc).split())}"
            ) from None
    if isinstance(doc, list):
        return doc, None
    if not isinstance(doc, dict) or "entries" not in doc:
        raise InvalidParameterError(
            f"YAML manifest {str(path)!r} must be a mapping with 'entries:' (and optionally "
            f"'measures:'), or a list of entries."
        )
    unknown = sorted(set(doc) - {"entries", "measures"})
    if unknown:
        raise InvalidParameterError(
            f"YAML manifest {str(path)!r} has unknown top-level key(s) {unknown}; valid: entries, "
            "measures."
        )
    return doc["entries"], doc.get("measures")
