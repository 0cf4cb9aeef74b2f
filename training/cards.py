"""The card catalogue a job trains against: the `cards` channel, or the demo catalogue bundled with the code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handler.model.catalog import Catalog, parse_catalog
from handler.model.errors import CatalogError
from handler.model.metadata import ModelMetadata
from training.errors import TrainingError
from training.paths import CARDS_CHANNEL, channel_files

BUNDLED_CARDS = Path(__file__).with_name("demo_cards.csv")


@dataclass(frozen=True)
class TrainingCards:
    data: bytes  # copied verbatim into the artefact as card_variables.csv
    catalog: Catalog
    origin: str  # where it came from, for messages and model_metadata.json


def read_cards(directory: Path, metadata: ModelMetadata) -> TrainingCards:
    """The single CSV of the cards channel, or the bundled demo catalogue when the channel is absent."""
    if directory.exists():
        files = channel_files(directory, CARDS_CHANNEL)
        if len(files) != 1:
            raise TrainingError(f"channel {CARDS_CHANNEL} must hold exactly one .csv file, it holds {len(files)}")
        path, origin = files[0], f"{CARDS_CHANNEL}/{files[0].relative_to(directory)}"
    else:
        path, origin = BUNDLED_CARDS, f"bundled {BUNDLED_CARDS.name}"
    data = path.read_bytes()
    try:
        catalog = parse_catalog(data, metadata, source="training")
    except CatalogError as exc:
        raise TrainingError(f"{origin}: {exc}") from None
    return TrainingCards(data=data, catalog=catalog, origin=origin)
