/**
 * Compares two V8 heap snapshots by what holds the memory: self size and
 * count summed per constructor (objects), per function name (closures) and
 * per node type otherwise (strings, arrays, code, system). A rough but honest
 * "what grew": retained sizes need the dominator tree, self sizes by
 * constructor already name the culprits.
 */

export interface HeapGroup {
  /** e.g. `Object`, `closure onMessage`, `(string)`. */
  name: string;
  count: number;
  selfBytes: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per group of one snapshot (its JSON text). */
export function heapGroups(json: string): Map<string, HeapGroup> {
  const s = JSON.parse(json) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, HeapGroup>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    const name = s.strings[s.nodes[i + iName]!] ?? '?';
    const key =
      type === 'object' || type === 'native'
        ? name
        : type === 'closure'
          ? `closure ${name || '(anonymous)'}`
          : type === 'array' || type === 'hidden' || type === 'code'
            ? `(${type}) ${name.slice(0, 60)}`
            : `(${type})`;
    const g = out.get(key) ?? { name: key, count: 0, selfBytes: 0 };
    g.count++;
    g.selfBytes += s.nodes[i + iSize]!;
    out.set(key, g);
  }
  return out;
}

/** Groups that grew from `before` to `after`, largest growth first. */
export function heapDiff(before: Map<string, HeapGroup>, after: Map<string, HeapGroup>, top = 25): HeapGroup[] {
  const rows: HeapGroup[] = [];
  for (const [k, a] of after) {
    const b = before.get(k);
    rows.push({ name: k, count: a.count - (b?.count ?? 0), selfBytes: a.selfBytes - (b?.selfBytes ?? 0) });
  }
  return rows.sort((x, y) => y.selfBytes - x.selfBytes).slice(0, top);
}
