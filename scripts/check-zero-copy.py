#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-zero-copy TSV ELEMENT...

Reads the zerocopy tracer's file (GST_TRACERS="zerocopy(file=TSV)") and
says whether the run was zero-copy from the named elements on: every link
whose source element is one of them carried buffers, none of them in system
memory, and nobody in the run made a copy. Exits 1 if not."""
import sys


def main(path, elements):
    rows = []
    with open(path) as tsv:
        header = tsv.readline().rstrip('\n').split('\t')
        for line in tsv:
            rows.append(dict(zip(header, line.rstrip('\n').split('\t'))))
    if not rows:
        print(f'zero-copy: NO, {path} has no rows (did the pipeline run?)')
        return 1

    problems = []
    checked = 0
    for row in rows:
        if row['link'] == '(total)':
            if int(row['copies'] or 0):
                problems.append(f"{row['copies']} copies ({row['copy_bytes']} bytes) in the run")
            continue
        source = row['link'].split(':', 1)[0]
        if source not in elements:
            continue
        checked += 1
        if int(row['buffers']) == 0:
            problems.append(f"no buffers on {row['link']}")
        if int(row['system_buffers']):
            problems.append(f"{row['system_buffers']} buffers in system memory on {row['link']}")
    missing = set(elements) - {r['link'].split(':', 1)[0] for r in rows}
    if missing:
        problems.append('no link from ' + ', '.join(sorted(missing)))

    if problems or not checked:
        print('zero-copy: NO: ' + '; '.join(problems or ['no link checked']))
        return 1
    kinds = {'dmabuf_buffers': 'dma-buf', 'fd_buffers': 'fd (memfd)'}
    used = sorted({name for r in rows for k, name in kinds.items()
                   if r['link'] != '(total)' and r['link'].split(':', 1)[0] in elements
                   and int(r[k])})
    print(f"zero-copy: yes, {checked} links from {', '.join(elements)} carried only "
          f"{' and '.join(used)} memory, and nothing was copied")
    return 0


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
