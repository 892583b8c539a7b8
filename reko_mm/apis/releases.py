"""The students reko-mm releases: ``configs/reko/metafile.yml`` entries whose ``Weights`` is a file
of this checkout, checked against the sha256 the metafile records before anything reads it."""
import os.path as osp

from ..utils.checkpoint import file_sha256

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
METAFILE = osp.join(ROOT, 'configs', 'reko', 'metafile.yml')


class ReleaseError(RuntimeError):
    """A released student that is not what the metafile says."""


def released_students(metafile: str = METAFILE) -> dict:
    """``{name: metafile entry}`` of the entries that name a weights file."""
    import yaml
    if not osp.isfile(metafile):
        raise ReleaseError(f'{metafile} not found: the released students ship with a source '
                           'checkout of reko-mm (configs/reko)')
    with open(metafile) as f:
        models = yaml.safe_load(f)['Models']
    return {m['Name']: m for m in models if m.get('Weights')}


def released_student(name: str, metafile: str = METAFILE) -> dict:
    """``{'config', 'weights', 'sha256', 'entry'}`` of a released student, absolute paths; the
    weights file is refused unless its sha256 is the metafile's (a Git LFS pointer, a truncated
    download or an edited file is named, not loaded)."""
    found = released_students(metafile)
    if name not in found:
        raise ReleaseError(f'no released student {name!r} in {metafile} (released: '
                           f'{sorted(found)})')
    entry = found[name]
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(metafile))))
    weights = osp.join(root, entry['Weights'])
    if not osp.isfile(weights):
        raise ReleaseError(f'{weights} not found: {metafile} lists it for {name}')
    sha = file_sha256(weights)
    if sha != entry.get('SHA256'):
        raise ReleaseError(f'{weights} has sha256 {sha}, not the {entry.get("SHA256")} that '
                           f'{metafile} records for {name}: the file is not the released one '
                           '(a Git LFS pointer or a partial copy?). Restore it with '
                           f'`git checkout -- {entry["Weights"]}`.')
    return dict(config=osp.join(root, entry['Config']), weights=weights, sha256=sha,
                entry=entry)
