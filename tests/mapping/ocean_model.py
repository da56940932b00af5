#!/usr/bin/env python3
"""An independent model of Ocean's entity processor (shared/spec/ocean-mapping.md §3-§4), driving
the jq CLI, used to cross-check the golden cases in tests/golden/mapping/ (it is not run by the
test suite). It reads YAML with PyYAML (YAML 1.1) and rewrites single quotes with a small
tokenizer; the batch error is simplified to its first item.

Usage: python3 tests/mapping/ocean_model.py tests/golden/mapping/<case>
prints {"entities", "errors", "misconfigured", "skipped", "filtered", "warnings"}; compare it with
the case's expected.json (error and warning messages are prefixes/substrings of Portolan's)."""
import json, os, re, subprocess, sys
import yaml
yaml.SafeLoader.add_constructor('tag:yaml.org,2002:value', lambda l, n: l.construct_scalar(n))

def rewrite(src):
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            out.append(src[i:j+1]); i = j + 1
        elif c == '#':
            j = src.find('\n', i); j = n if j < 0 else j
            out.append(src[i:j]); i = j
        elif c == "'":
            j = i + 1; buf = []
            while j < n and src[j] != "'":
                if src[j] == '\\' and j + 1 < n:
                    buf.append(src[j:j+2]); j += 2; continue
                if src[j] == '"': buf.append('\\"')
                else: buf.append(src[j])
                j += 1
            out.append('"' + ''.join(buf) + '"'); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)

def jq_first(prog, data):
    if prog is None:
        return ('error', 'None')
    full = 'def env: {}; {} as $ENV | ' + rewrite(prog)
    p = subprocess.run(['jq', '-c', full], input=json.dumps(data), capture_output=True, text=True)
    lines = p.stdout.splitlines()
    if lines:
        return ('value', json.loads(lines[0]))
    if p.returncode != 0:
        return ('error', p.stderr.strip())
    return ('empty', None)

def pystr(v):
    return str(v)

def walk(node, data, path, mis):
    if isinstance(node, dict):
        return {k: walk(v, data, f'{path}.{k}' if path else k, mis) for k, v in node.items()}
    if isinstance(node, list):
        return [walk(e, data, path, mis) for e in node]
    text = None if node is None else (str(node) if not isinstance(node, str) else node)
    kind, v = jq_first(text, data)
    v = v if kind == 'value' else None
    if v is None:
        mis.setdefault(path, 'null' if text is None else text)
    return v

def deletion_path(expr):
    expr = expr.strip()
    if expr.startswith('('):
        m = re.match(r'\((.*?)\)', expr, re.DOTALL)
        if not m: return None
        chain = m.group(1).strip()
    else:
        chain = expr
    for seg in chain.split('|'):
        seg = seg.strip()
        if re.match(r'^\.\s+as\s+\$\w+', seg): continue
        if seg == '.' or seg.startswith('$'): continue
        m = re.match(r'(\.[\w]+|\.\[[^\]]+\])(\.[\w]+|\[[^\]]+\]|\.\[[^\]]+\])*', seg)
        if m: return m.group(0).strip()
    return None

ORDER = ['identifier', 'title', 'blueprint', 'icon', 'team', 'properties', 'relations']

def main(case):
    cfg = yaml.safe_load(open(os.path.join(case, 'mapping.yaml')))
    if isinstance(cfg, list): resources = cfg
    elif 'resources' in cfg: resources = cfg['resources']
    else: resources = [cfg]
    opts = {}
    if os.path.exists(os.path.join(case, 'options.json')):
        opts = json.load(open(os.path.join(case, 'options.json')))
    raw = open(os.path.join(case, 'payload.json')).read()
    dec = json.JSONDecoder(); pos = 0; items = []
    while True:
        while pos < len(raw) and raw[pos].isspace(): pos += 1
        if pos >= len(raw): break
        v, pos = dec.raw_decode(raw, pos)
        if opts.get('items_path'):
            for k in opts['items_path'].lstrip('.').split('.'): v = v[k]
        items.extend(v if isinstance(v, list) else [v])
    kind_filter = opts.get('kind', '')
    res = {'entities': [], 'errors': [], 'misconfigured': {}, 'skipped': 0, 'filtered': 0, 'warnings': []}
    for ri, r in enumerate(resources):
        if kind_filter and r['kind'] != kind_filter: continue
        m = r['port']['entity']['mappings']
        m = {k: m[k] for k in ORDER if k in m}
        port = r['port']
        itp = port.get('itemsToParse')
        name = port.get('itemsToParseName', 'item')
        tlt = port.get('itemsToParseTopLevelTransform', True)
        q = r['selector']['query']
        q = q if isinstance(q, str) else str(q)
        ents, errs, mis, batch_err = [], [], {}, None
        for idx, P in enumerate(items):
            expanded = [(P, None)]
            if itp:
                k1, arr = jq_first(itp, P)
                if tlt:
                    target = deletion_path(itp) or '.'
                    k2, P2 = jq_first('. | del(' + target + ')', P)
                    if k2 != 'value' or P2 is None:
                        res['warnings'].append({'resource': ri, 'index': idx, 'message': 'returned None'}); continue
                else:
                    P2 = P
                if k1 != 'value' or not isinstance(arr, list):
                    res['warnings'].append({'resource': ri, 'index': idx, 'message': 'Expected list but got ' + type(arr if k1 == 'value' else None).__name__}); continue
                expanded = []
                for k, e in enumerate(arr):
                    M = dict(P2); M[name] = e
                    expanded.append((M, k))
            for X, el in expanded:
                kind, sel = jq_first(q, X)
                err = None
                if kind == 'error': err = f'Selector query failed for pattern {q!r}: '
                elif kind == 'empty': err = f'Selector query failed for pattern {q!r}: StopIteration'
                elif not isinstance(sel, bool):
                    err = f'Expected boolean value for pattern {q!r}, got value:{sel} of type: {type(sel)} instead'
                if err:
                    e = {'resource': ri, 'kind': r['kind'], 'index': idx, 'message': err}
                    if el is not None: e['element'] = el
                    errs.append(e); continue
                if not sel:
                    res['skipped'] += 1; res['filtered'] += 1; continue
                ent = walk(m, X, '', mis)
                if not (ent.get('identifier') and ent.get('blueprint')):
                    res['skipped'] += 1; continue
                if 'icon' in ent:
                    if isinstance(ent['icon'], (list, dict)):
                        batch_err = {'resource': ri, 'kind': r['kind'], 'index': idx, 'scope': 'batch', 'message': 'icon: str type expected'}
                        break
                    if isinstance(ent['icon'], (int, float, bool)): ent['icon'] = str(ent['icon'])
                if 'team' in ent and isinstance(ent['team'], (int, float, bool)):
                    ent['team'] = str(ent['team'])
                ents.append(ent)
            if batch_err: break
        if not batch_err: res['entities'].extend(ents)
        res['errors'].extend(errs)
        if batch_err: res['errors'].append(batch_err)
        for p, t in mis.items():
            res['misconfigured'][p if ri == 0 else f'resources[{ri}].{p}'] = t
    json.dump(res, sys.stdout, indent=2, ensure_ascii=False); print()

main(sys.argv[1])
