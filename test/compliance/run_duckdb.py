"""Runs Athena queries with DuckDB over DynamoDB export data files.

test/compliance drives this with the project's moto virtualenv python. It
reads one JSON object on stdin:

  {"table": "access_items", "column": "item", "json_key": "Item",
   "hive_type": "struct<PK:struct<S:string>,...>",
   "files": ["/tmp/.../x.json.gz", ...],
   "queries": [{"name": "...", "sql": "...", "params": [...]}, ...]}

makes `table` a view with one column `column` of `hive_type` (translated
to DuckDB's types) read from the gzip'd JSON lines, as the Glue table of
infra/compliance.yaml reads them with the OpenX JSON SerDe, runs each query
with its `?` parameters bound in order, and writes
[{"name", "columns", "rows"}, ...] as JSON on stdout.
"""

import json
import re
import sys

import duckdb

_TOKEN = re.compile(r"\s*([<>,:]|[A-Za-z_][A-Za-z0-9_]*)")
_PRIMITIVE = {"string": "VARCHAR", "boolean": "BOOLEAN", "bigint": "BIGINT", "int": "INTEGER",
              "double": "DOUBLE", "timestamp": "TIMESTAMP"}


def duckdb_type(hive):
    """Translates a Hive/Glue type string (struct, map, array, primitives)."""
    tokens, pos = [], 0
    while pos < len(hive):
        m = _TOKEN.match(hive, pos)
        if not m:
            raise ValueError(f"bad type at {pos}: {hive[pos:pos + 20]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    out, rest = _parse(tokens)
    if rest:
        raise ValueError(f"trailing tokens in type: {rest[:5]}")
    return out


def _expect(tokens, want):
    if not tokens or tokens[0] != want:
        raise ValueError(f"expected {want!r}, got {tokens[:3]}")
    return tokens[1:]


def _parse(tokens):
    name, tokens = tokens[0], tokens[1:]
    kind = name.lower()
    if kind == "struct":
        tokens = _expect(tokens, "<")
        fields = []
        while True:
            field, tokens = tokens[0], _expect(tokens[1:], ":")
            typ, tokens = _parse(tokens)
            fields.append(f'"{field}" {typ}')
            if tokens[0] == ">":
                return f"STRUCT({', '.join(fields)})", tokens[1:]
            tokens = _expect(tokens, ",")
    if kind == "map":
        key, tokens = _parse(_expect(tokens, "<"))
        value, tokens = _parse(_expect(tokens, ","))
        return f"MAP({key}, {value})", _expect(tokens, ">")
    if kind == "array":
        elem, tokens = _parse(_expect(tokens, "<"))
        return f"{elem}[]", _expect(tokens, ">")
    if kind in _PRIMITIVE:
        return _PRIMITIVE[kind], tokens
    raise ValueError(f"unsupported type {name!r}")


def main():
    spec = json.load(sys.stdin)
    con = duckdb.connect()
    columns = {spec["json_key"]: duckdb_type(spec["hive_type"])}
    con.execute(
        f'CREATE VIEW {spec["table"]} AS SELECT "{spec["json_key"]}" AS "{spec["column"]}" '
        f"FROM read_json([{', '.join(_quote(f) for f in spec['files'])}], "
        f"format = 'newline_delimited', compression = 'gzip', "
        f"columns = {{{', '.join(f'{_quote(k)}: {_quote(v)}' for k, v in columns.items())}}})"
    )
    results = []
    for q in spec["queries"]:
        try:
            cur = con.execute(q["sql"], q.get("params") or [])
        except duckdb.Error as e:
            sys.exit(f"query {q['name']}: {e}")
        results.append({
            "name": q["name"],
            "columns": [d[0] for d in cur.description],
            "rows": [list(r) for r in cur.fetchall()],
        })
    json.dump(results, sys.stdout, default=str)


def _quote(s):
    """An SQL string literal (a view cannot take prepared parameters)."""
    return "'" + s.replace("'", "''") + "'"


if __name__ == "__main__":
    main()
