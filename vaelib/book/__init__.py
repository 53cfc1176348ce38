"""The book's machinery, on top of the VAE code: what each mode does per chapter (``budgets``),
recorded long runs and their JSON (``records``, ``recorded/``), published numbers with their
conditions (``published``) and which recorded number answers which of them (``comparisons``, read by
the page of published numbers that ``_ext/published_numbers.py`` builds), the exercises' self-checks
(``exercises``), checkpoints and the models chapters hand on (``checkpoints``), and the live latent
map's ONNX export (``export``).

It changes when the book changes, not when the maths does. Nothing in the core or the topic
packages imports it; the names in its ``__all__`` are importable from ``vaelib`` as well.
"""

from . import published
from .budgets import BUDGETS, CHAPTERS, MODES, Budget, ModeTable, budget, chapter_settings, chapter_table
from .checkpoints import SHARED_MODELS, CheckpointError, checkpoint_path, load_checkpoint, save_checkpoint
from .exercises import check_answer, check_log_likelihood_report
from .export import LatentMap, decoder_onnx_bytes, export_decoder_onnx
from .records import Record, RecordError, load_record, load_record_or_none, new_record, record_names

__all__ = [
    "Budget",
    "budget",
    "BUDGETS",
    "chapter_settings",
    "chapter_table",
    "CHAPTERS",
    "check_answer",
    "check_log_likelihood_report",
    "checkpoint_path",
    "CheckpointError",
    "decoder_onnx_bytes",
    "export_decoder_onnx",
    "LatentMap",
    "load_checkpoint",
    "load_record",
    "load_record_or_none",
    "MODES",
    "ModeTable",
    "new_record",
    "published",
    "Record",
    "record_names",
    "RecordError",
    "save_checkpoint",
    "SHARED_MODELS",
]
