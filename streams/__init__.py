"""Camera sources: open a stream or a clip and yield timestamped frames.

Nothing here knows about detection; a `Frame` is all that leaves this package.
"""

from streams.config import SourceConfig
from streams.file_source import FileSource, SourceError, open_source
from streams.frame import Frame

__all__ = ["FileSource", "Frame", "SourceConfig", "SourceError", "open_source"]
