"""How long one large photo takes to re-encode (run by hand, never as a test).

    .venv/bin/python bench/upload_image.py [megapixels]

Makes a noisy photo-like JPEG (so it compresses like a real one), then times
reencode_image() as save_upload() runs it, and checks how long the event loop stood still
while it ran in gevent's thread pool (a greenlet ticks every 10 ms meanwhile).
"""

from __future__ import annotations

import io
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402
import numpy  # noqa: E402
from PIL import Image  # noqa: E402

from app.modules.uploads.images import reencode_image  # noqa: E402


def photo(megapixels: float) -> bytes:
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = numpy.random.default_rng(1)
    # Smooth gradients plus noise: roughly the size of a phone photo at quality 90.
    base = numpy.linspace(0, 255, width, dtype=numpy.float32)[None, :, None].repeat(height, 0).repeat(3, 2)
    pixels = numpy.clip(base + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(numpy.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def main() -> None:
    megapixels = float(sys.argv[1]) if len(sys.argv) > 1 else 12
    print(
        f"cores: {os.cpu_count()}, cpu: {platform.processor() or platform.machine()}, Python {sys.version.split()[0]}"
    )
    content = photo(megapixels)
    print(f"input: {megapixels:g} MP JPEG, {len(content) / 1e6:.1f} MB")

    started = time.perf_counter()
    result = reencode_image(content, "image/jpeg", 50_000_000, 400)
    on_loop = time.perf_counter() - started
    print(
        f"re-encode on the calling thread: {on_loop * 1000:.0f} ms "
        f"(output {len(result.content) / 1e6:.1f} MB, thumbnail {len(result.thumbnail) / 1e3:.0f} kB)"
    )

    gaps: list[float] = []

    def ticker():
        last = time.perf_counter()
        while True:
            gevent.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = gevent.spawn(ticker)
    gevent.sleep(0.05)
    started = time.perf_counter()
    gevent.get_hub().threadpool.apply(reencode_image, (content, "image/jpeg", 50_000_000, 400))
    in_pool = time.perf_counter() - started
    tick.kill()
    print(
        f"re-encode in gevent's thread pool: {in_pool * 1000:.0f} ms; "
        f"longest event-loop pause meanwhile {max(gaps) * 1000:.0f} ms (tick every 10 ms)"
    )


if __name__ == "__main__":
    main()
