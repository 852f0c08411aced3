"""vbr: declarative video background removal."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a thread per core for matrix products, even the small ones
# of vbr's resizing, and those threads spin, taking cycles from the decoder, onnxruntime
# and the encoder, which have threads of their own. One BLAS thread measured faster: a
# warm 720p render with guided refinement and foreground estimation took 8.4 s against
# 9.7 s (2 cores). It only applies if numpy loads after vbr, and never overrides a
# value the user set.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from renderer.api import (  # noqa: E402  (after the environment is set)
    Cancelled,
    Options,
    Project,
    Stills,
    batch,
    compile,
    frame_index,
    load,
    load_row,
    masks_to_infer,
    plan,
    plan_batch,
    preview,
    preview_image,
    render,
    rows,
    run_batch,
    variables,
    write_image,
)
from renderer.errors import VbrError  # noqa: E402
from renderer.events import BatchDone, Done, Event, Progress, RowDone, RowFailed, Started, WarningEvent  # noqa: E402

__all__ = [
    "BatchDone", "Done", "Event", "Progress", "RowDone", "RowFailed", "Started", "WarningEvent",
    "Cancelled", "Options", "Project", "Stills", "VbrError", "batch", "compile", "frame_index", "load", "load_row",
    "masks_to_infer", "plan", "plan_batch", "preview", "preview_image", "render", "rows", "run_batch", "variables",
    "write_image",
]
