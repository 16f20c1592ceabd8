#!/usr/bin/env python3
"""Turns a JFR recording's CPU samples into a summary and a flame graph (SVG), with no other tool
than the JDK's `jfr`.

    bench/tools/jfr-flame.py RECORDING.jfr OUT_PREFIX [--title TITLE]

writes OUT_PREFIX.txt (samples per thread, top self and inclusive frames), OUT_PREFIX.collapsed
(one line per stack: thread;frame;...;frame count, the input of any flame graph tool) and
OUT_PREFIX.svg (an icicle-style flame graph: root at the top, width = share of samples).
"""
import collections
import html
import re
import subprocess
import sys


def samples(recording):
    text = subprocess.run(
        ["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "96", recording],
        capture_output=True, text=True, check=True).stdout
    for event in text.split("jdk.ExecutionSample")[1:]:
        thread = re.search(r'sampledThread = "([^"]*)"', event)
        name = re.sub(r"\d+", "N", thread.group(1)) if thread else "?"
        frames = re.findall(r"^\s+([\w.$<>]+)\(", event, re.M)
        if frames:
            yield name, list(reversed(frames))


def short(frame):
    parts = frame.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else frame


def main():
    recording, prefix = sys.argv[1], sys.argv[2]
    title = sys.argv[sys.argv.index("--title") + 1] if "--title" in sys.argv else recording
    stacks = collections.Counter()
    threads = collections.Counter()
    top = collections.Counter()
    inclusive = collections.Counter()
    for thread, frames in samples(recording):
        stacks[tuple([thread] + frames)] += 1
        threads[thread] += 1
        top[frames[-1]] += 1
        for f in set(frames):
            inclusive[f] += 1
    total = sum(stacks.values())
    with open(prefix + ".collapsed", "w") as out:
        for stack, count in stacks.most_common():
            out.write(";".join(stack) + " " + str(count) + "\n")
    with open(prefix + ".txt", "w") as out:
        out.write(f"{title}\n{total} CPU samples (JFR jdk.ExecutionSample)\n\nby thread:\n")
        for t, c in threads.most_common(15):
            out.write(f"  {100.0 * c / total:5.1f} %  {t}\n")
        out.write("\ntop frames (self):\n")
        for f, c in top.most_common(20):
            out.write(f"  {100.0 * c / total:5.1f} %  {f}\n")
        out.write("\nframes (inclusive), keyrotor and Ratis first 40:\n")
        shown = 0
        for f, c in inclusive.most_common():
            if "keyrotor" in f or "ratis" in f or "rocksdb" in f:
                out.write(f"  {100.0 * c / total:5.1f} %  {f}\n")
                shown += 1
                if shown == 40:
                    break
    # The tree, then an SVG: each node a rectangle, children below their parent.
    tree = {}
    for stack, count in stacks.items():
        node = tree
        for frame in stack:
            entry = node.setdefault(frame, [0, {}])
            entry[0] += count
            node = entry[1]
    width, row = 1200.0, 16
    rects = []
    depth_max = [0]

    def walk(node, x, depth):
        for frame, (count, children) in sorted(node.items(), key=lambda kv: -kv[1][0]):
            w = width * count / total
            if w >= 0.5:
                rects.append((x, depth, w, frame, count))
                depth_max[0] = max(depth_max[0], depth)
                walk(children, x, depth + 1)
            x += w

    walk(tree, 0.0, 0)
    height = (depth_max[0] + 3) * row
    with open(prefix + ".svg", "w") as out:
        out.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{height}" '
                  f'font-family="monospace" font-size="11">\n')
        out.write(f'<text x="4" y="12">{html.escape(title)} ({total} samples)</text>\n')
        for x, depth, w, frame, count in rects:
            y = (depth + 1) * row + 4
            hue = 30 if "keyrotor" in frame else 200 if "ratis" in frame else 90 if "grpc" in frame or "netty" in frame else 0
            color = f"hsl({hue},70%,{60 if hue else 75}%)"
            label = short(frame)
            chars = int(w / 6.6)
            text = label if len(label) <= chars else (label[:chars - 1] + "…" if chars > 3 else "")
            out.write(f'<g><title>{html.escape(frame)}: {count} samples, {100.0 * count / total:.1f} %</title>'
                      f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="{color}"/>'
                      f'<text x="{x + 2:.1f}" y="{y + 11}">{html.escape(text)}</text></g>\n')
        out.write("</svg>\n")
    print(f"{prefix}.txt, {prefix}.collapsed, {prefix}.svg: {total} samples")


if __name__ == "__main__":
    main()
