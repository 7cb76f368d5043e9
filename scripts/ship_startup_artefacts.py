"""Regenerate what ships trained so a fresh ``cockpit serve`` neither trains nor embeds.

* the fraud starter model (``tools/fraud/starter/``): trained on the demo simulator config,
  written with the hash of its inputs;
* the shared corpus's chunk vectors (``knowledge/corpus/vectors.json``): every chunk embedded
  by the default model, keyed by the hash of its text.

Run it after changing the fraud simulator, features, model or training code, or the corpus;
``tests/tools/fraud/test_starter_model.py`` and
``tests/knowledge/test_shipped_vectors.py`` fail until you do. Prints the files and sizes.

    python scripts/ship_startup_artefacts.py
"""

from __future__ import annotations

import json
from pathlib import Path


def ship_fraud_starter() -> list[Path]:
    from tools.fraud.service import DEMO_SIM
    from tools.fraud.starter import FAMILIES, write_starter
    from tools.fraud.training import train_from_simulator

    return write_starter(train_from_simulator(DEMO_SIM, families=FAMILIES).model, DEMO_SIM)


def ship_corpus_vectors() -> list[Path]:
    from cockpit.embeddings import OnnxMiniLMEmbedder
    from knowledge.corpus import corpus_chunk_texts
    from knowledge.corpus.vectors import write_vectors

    return [write_vectors(OnnxMiniLMEmbedder(), corpus_chunk_texts())]


def main() -> None:
    written = ship_fraud_starter() + ship_corpus_vectors()
    root = Path(__file__).resolve().parent.parent
    sizes = {str(p.resolve().relative_to(root)): p.stat().st_size for p in written}
    print(json.dumps({"written_bytes": sizes}, indent=2))


if __name__ == "__main__":
    main()
