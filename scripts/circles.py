#!/usr/bin/env python3
"""Find import circles among sibling modules of every module directory.

Edges come from `use` items (super::, self::, crate::), following `pub use`
re-exports to the module that defines the name. `#[cfg(test)]` blocks are
skipped: a test module may use what its parent uses. mod.rs is the directory
itself, not one of its siblings, so its own uses are not edges.
Usage: scripts/circles.py SRC_DIR...  (exit 1 when a circle is found)
"""
import os, re, sys

def strip_tests(text):
    out, i = [], 0
    while True:
        j = text.find('#[cfg(test)]', i)
        if j < 0:
            out.append(text[i:]); break
        out.append(text[i:j])
        k = text.find('{', j); semi = text.find(';', j)
        if k < 0 or (0 <= semi < k):
            i = semi + 1 if semi >= 0 else len(text); continue
        depth, p = 0, k
        while p < len(text):
            if text[p] == '{': depth += 1
            elif text[p] == '}':
                depth -= 1
                if depth == 0: break
            p += 1
        i = p + 1
    return ''.join(out)

def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)

def expand(tree):
    """Expand `a::{b, c::{d}}` into paths."""
    tree = tree.strip()
    i = tree.find('{')
    if i < 0:
        return [tree.split(' as ')[0].strip()]
    prefix, inner = tree[:i], tree[i+1:tree.rfind('}')]
    parts, depth, cur = [], 0, ''
    for ch in inner:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''; continue
        depth += ch == '{'; depth -= ch == '}'; cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p.strip():
            out += [prefix + q for q in expand(p)]
    return out

def modules(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'): continue
            rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
            if rel[-1] == 'mod' or (len(rel) == 1 and rel[0] in ('lib', 'main')):
                rel = rel[:-1]
            mods[tuple(rel)] = os.path.join(root, f)
    return mods

def uses(path):
    text = strip_tests(strip_comments(open(path).read()))
    for m in re.finditer(r'(\bpub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);', text):
        for p in expand(m.group(2)):
            yield bool(m.group(1)), [s.strip() for s in p.split('::') if s.strip()]

def main():
    found = False
    for src in sys.argv[1:]:
        mods = modules(src)
        reexp = {}
        raw = {m: list(uses(f)) for m, f in mods.items()}
        def resolve(mod, segs, seen=0):
            if not segs: return None
            if segs[0] == 'crate': base, rest = (), segs[1:]
            elif segs[0] in ('super', 'self'):
                base = mod
                while segs and segs[0] in ('super', 'self'):
                    if segs[0] == 'super': base = base[:-1]
                    segs = segs[1:]
                rest = segs
            else: return None
            cur = base
            for s in rest:
                if cur + (s,) in mods: cur = cur + (s,)
                else:
                    if seen < 8 and (cur, s) in reexp and cur != mod:
                        return reexp[(cur, s)] or cur
                    break
            return cur
        for _ in range(3):
            for m, us in raw.items():
                for pub, segs in us:
                    if pub and segs:
                        t = resolve(m, segs)
                        if t is not None: reexp[(m, segs[-1])] = t
        edges = set()
        for m, us in raw.items():
            for _, segs in us:
                t = resolve(m, segs)
                if t is None or t == m: continue
                # common directory: longest common prefix
                k = 0
                while k < min(len(m), len(t)) and m[k] == t[k]: k += 1
                if k < len(m) and k < len(t):
                    edges.add((m[:k], m[k], t[k], '/'.join(m), '/'.join(t)))
        dirs = {}
        for d, a, b, fa, fb in edges:
            dirs.setdefault(d, {}).setdefault(a, {}).setdefault(b, (fa, fb))
        for d, g in sorted(dirs.items()):
            for cyc in cycles(g):
                found = True
                chain = ' -> '.join(cyc + [cyc[0]])
                print(f"{src}: {'/'.join(d) or '<root>'}: {chain}")
                for a, b in zip(cyc, cyc[1:] + cyc[:1]):
                    print(f"    {g[a][b][0]} uses {g[a][b][1]}")
    if not found: print('no circles')
    return 1 if found else 0

def cycles(g):
    """One representative cycle per strongly connected component."""
    idx, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def sc(v):
        idx[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in g.get(v, {}):
            if w not in idx: sc(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(path_in(g, set(comp)))
    for v in sorted(g):
        if v not in idx: sc(v)
    return out

def path_in(g, comp):
    start = sorted(comp)[0]
    prev, q = {start: None}, [start]
    while q:
        v = q.pop(0)
        for w in sorted(g.get(v, {})):
            if w in comp:
                if w == start:
                    p = [v]
                    while prev[p[-1]] is not None: p.append(prev[p[-1]])
                    return p[::-1]
                if w not in prev: prev[w] = v; q.append(w)
    return sorted(comp)

if __name__ == '__main__':
    sys.exit(main())
