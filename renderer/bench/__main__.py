"""`python -m renderer.bench [speed] [--quick] [--json FILE]`, or `... quality ...`, `... long ...`, `... batch ...`, `... gpu ...`, `... loop ...`.

No subcommand is the speed benchmark, as before there were two.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["quality"]:
        from renderer.bench import quality

        return quality.main(argv[1:])
    if argv[:1] == ["long"]:
        from renderer.bench import long

        return long.main(argv[1:])
    if argv[:1] == ["batch"]:
        from renderer.bench import batch

        return batch.main(argv[1:])
    if argv[:1] == ["gpu"]:
        from renderer.bench import gpu

        return gpu.main(argv[1:])
    if argv[:1] == ["loop"]:
        from renderer.bench import loop

        return loop.main(argv[1:])
    from renderer.bench import speed

    return speed.main(argv[1:] if argv[:1] == ["speed"] else argv)


if __name__ == "__main__":
    sys.exit(main())
