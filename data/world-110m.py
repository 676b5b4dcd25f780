#!/usr/bin/env python3
"""Converts Natural Earth 110m country outlines (the TopoJSON of the npm
package world-atlas 2.0.2, countries-110m.json) into the compact SVG path
data `auth0-archive report` draws its map with: data/world-110m.tsv, one
country a line, `name<TAB>path`, equirectangular, x = longitude + 180,
y = 90 - latitude, one decimal (rings crossing the antimeridian run past
the edge, where the viewBox clips them). Antarctica is left out (no logins there, and
the map is shorter without it).

    npm pack world-atlas && tar xzf world-atlas-2.0.2.tgz
    python3 data/world-110m.py package/countries-110m.json > data/world-110m.tsv
"""
import json
import sys


def main(path):
    topo = json.load(open(path))
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)

    def ring(indices):
        pts = []
        for i in indices:
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            pts.extend(a if not pts else a[1:])
        return pts

    def fmt(v):
        s = f"{v:.1f}"
        return s[:-2] if s.endswith(".0") else s

    out = []
    for g in topo["objects"]["countries"]["geometries"]:
        name = g.get("properties", {}).get("name", "")
        if name == "Antarctica" or g["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
        d = []
        for poly in polys:
            for r in poly:
                last = None
                cmds = []
                prev_x = None
                for lon, lat in ring(r):
                    x = lon + 180
                    # A ring that crosses the antimeridian (Fiji, Russia)
                    # continues past the map's edge instead of jumping back
                    # across it; the SVG viewBox clips the overhang.
                    while prev_x is not None and x - prev_x > 180:
                        x -= 360
                    while prev_x is not None and prev_x - x > 180:
                        x += 360
                    prev_x = x
                    p = (fmt(x), fmt(90 - lat))
                    if p != last:
                        cmds.append(p)
                        last = p
                if len(cmds) < 3:
                    continue
                d.append("M" + "L".join(f"{x} {y}" for x, y in cmds) + "Z")
        if d:
            out.append(f"{name}\t{''.join(d)}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
