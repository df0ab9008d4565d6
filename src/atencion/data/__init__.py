"""Data generated in code or shipped by a package, one module per source; no model code.

- :mod:`~atencion.data.dates`: Spanish dates to English dates (chapter 1);
- :mod:`~atencion.data.images`: sets of scikit-learn's digit images with an odd one out;
- :mod:`~atencion.data.graphs`: Zachary's karate club graph, as shipped by networkx;
- :mod:`~atencion.data.speech`: Spanish speech synthesised offline with eSpeak NG;
- :mod:`~atencion.data.sequences`: copying a sequence with an offset (a task that needs
  positions), teacher forcing's shifted targets, windows for language modelling;
- :mod:`~atencion.data.text`: Spanish sentences from the corpora that ``elotl`` ships.

Everything is importable from here: ``from atencion import data; data.date_pairs(...)``.
"""

from .dates import *  # noqa: F403
from .dates import __all__ as _dates
from .graphs import *  # noqa: F403
from .graphs import __all__ as _graphs
from .images import *  # noqa: F403
from .images import __all__ as _images
from .sequences import *  # noqa: F403
from .sequences import __all__ as _sequences
from .speech import *  # noqa: F403
from .speech import __all__ as _speech
from .text import *  # noqa: F403
from .text import __all__ as _text

__all__ = [*_dates, *_images, *_graphs, *_sequences, *_speech, *_text]
