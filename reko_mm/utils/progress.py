"""Progress lines for work of several stages: what runs, the time spent and the time left."""
import time
from typing import Callable, Dict, List


class Stages:
    """Numbered progress lines with the elapsed time and the time left, from estimates."""

    def __init__(self, estimates: Dict[str, float], log: Callable[[str], None]):
        self.estimates, self.log, self.t0 = estimates, log, time.time()
        self.done: List[str] = []

    def start(self, name: str, what: str) -> None:
        elapsed = time.time() - self.t0
        left = sum(v for k, v in self.estimates.items() if k not in self.done)
        self.log(f'== [{len(self.done) + 1}/{len(self.estimates)}] {what} '
                 f'(elapsed {elapsed / 60:.1f} min, about {left / 60:.1f} min left)')
        self.done.append(name)
