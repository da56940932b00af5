#!/usr/bin/env python3
"""Reference replay of an Ocean mapping YAML over a JSON array of payloads, with the jq CLI.

For checking fixtures and example data against the C++ mapper, not a replacement for it:
Port's single-quoted literals become double-quoted, each field takes its first jq output, a
jq error or no output gives null, a selector must give exactly `true` (errors count as false
here, where Portolan reports an item error). One entity per line on stdout.
Usage: replay_jq.py MAPPING.yaml PAYLOADS.json [KIND]    (needs PyYAML and jq on PATH)"""
import json, subprocess, sys, yaml, re

def port_dialect(expr):
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c == '"':
            j = i + 1
            while j < n and expr[j] != '"':
                j += 2 if expr[j] == '\\' else 1
            out.append(expr[i:j+1]); i = j + 1
        elif c == "'":
            j = expr.index("'", i + 1)
            out.append(json.dumps(expr[i+1:j])); i = j + 1
        elif c == '#':
            j = expr.find('\n', i)
            if j < 0: j = n
            out.append(expr[i:j]); i = j
        else:
            out.append(c); i += 1
    return ''.join(out)

def run(expr, items):
    prog = '[.[] | [limit(1; try (%s) catch null)] | .[0]]' % port_dialect(expr)
    r = subprocess.run(['jq', '-c', prog], input=json.dumps(items), capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write('jq failed: %s\n%s\n' % (expr, r.stderr)); return [None]*len(items)
    return json.loads(r.stdout)

def walk(m, items):
    if isinstance(m, str): return run(m, items)
    if isinstance(m, dict):
        cols = {k: walk(v, items) for k, v in m.items()}
        return [{k: cols[k][i] for k in m} for i in range(len(items))]
    raise TypeError(m)

cfg = yaml.safe_load(open(sys.argv[1]))
items = json.load(open(sys.argv[2]))
kind = sys.argv[3] if len(sys.argv) > 3 else None
ents = []
for res in cfg['resources']:
    if kind and res['kind'] != kind: continue
    sel = run(res['selector']['query'], items)
    chosen = [it for it, s in zip(items, sel) if s is True]
    if not chosen: continue
    ents += walk(res['port']['entity']['mappings'], chosen)
for e in ents: print(json.dumps(e))
