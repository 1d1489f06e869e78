/**
 * Preloaded into kiro-server by bench/memory.ts --heap (`bun --preload bench/lib/heap-probe.ts
 * src/index.ts`): on SIGUSR2 it runs a full collection and writes JavaScriptCore's heap statistics
 * and the most numerous object types, as one JSON object, to the file named by HEAP_PROBE_OUT.
 * With HEAP_PROBE_SNAPSHOT=<prefix> it also writes each full heap snapshot to <prefix>.<time>.json
 * (JavaScriptCore's format: nodes, class names, edges), to compare what survives between two of them.
 * Not part of the server: the bench only uses it to explain what the heap holds.
 */
import { heapStats } from "bun:jsc";
import { writeFileSync } from "node:fs";

const out = process.env.HEAP_PROBE_OUT;
if (out) {
  process.on("SIGUSR2", () => {
    Bun.gc(true);
    // mimalloc's own statistics (bins in use, pages touched, arena committed and purged), on stderr.
    if (process.env.HEAP_PROBE_MIMALLOC) (Bun as unknown as { unsafe: { mimallocDump?: () => void } }).unsafe.mimallocDump?.();
    const s = heapStats();
    const top = Object.entries(s.objectTypeCounts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 40);
    const mem = process.memoryUsage();
    // JavaScriptCore's snapshot: nodes are [id, size, classNameIndex, flags, (labelIndex)] tuples.
    const snap = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[]; labels?: string[] };
    if (process.env.HEAP_PROBE_SNAPSHOT) writeFileSync(`${process.env.HEAP_PROBE_SNAPSHOT}.${Date.now()}.json`, JSON.stringify(snap));
    const width = snap.labels ? 5 : 4;
    const bySize = new Map<string, number>();
    const largest: Array<[string, number]> = [];
    for (let i = 0; i < snap.nodes.length; i += width) {
      const size = snap.nodes[i + 1]!;
      const cls = snap.nodeClassNames[snap.nodes[i + 2]!]!;
      bySize.set(cls, (bySize.get(cls) ?? 0) + size);
      if (size > 65536) largest.push([cls, size]);
    }
    largest.sort((a, b) => b[1] - a[1]);
    writeFileSync(
      out,
      JSON.stringify({
        heapSize: s.heapSize,
        heapCapacity: s.heapCapacity,
        extraMemorySize: s.extraMemorySize,
        objectCount: s.objectCount,
        protectedObjectCount: s.protectedObjectCount,
        memoryUsage: mem,
        top,
        bySize: [...bySize].sort((a, b) => b[1] - a[1]).slice(0, 20),
        largest: largest.slice(0, 30),
      }),
    );
  });
}
