"""Argument checks shared by the distillation losses: a bad value fails when the config is built."""
import numbers


def check_loss_weight(loss_weight, owner: str) -> float:
    """``loss_weight`` must be a real number >= 0 (a negative weight would train *away* from
    the teacher; a string would fail only at the first step)."""
    if isinstance(loss_weight, bool) or not isinstance(loss_weight, numbers.Real):
        raise TypeError(f'{owner}: loss_weight must be a number, got {loss_weight!r} '
                        f'({type(loss_weight).__name__})')
    if loss_weight < 0:
        raise ValueError(f'{owner}: loss_weight={loss_weight} is negative, which would push the '
                         'student away from the teacher; use a value >= 0 (0 switches the term '
                         'off but still computes it).')
    return float(loss_weight)


def check_positive(value, name: str, owner: str) -> float:
    """A real number > 0 (e.g. a temperature)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{owner}: {name} must be a number, got {value!r} '
                        f'({type(value).__name__})')
    if value <= 0:
        raise ValueError(f'{owner}: {name} must be > 0, got {value}')
    return float(value)


def check_same_positions(student, teacher, owner: str) -> None:
    """Feature maps compared position by position must agree in batch and spatial size."""
    if student.dim() != 4 or teacher.dim() != 4:
        raise ValueError(f'{owner} expects (N, C, H, W) tensors, got student '
                         f'{tuple(student.shape)} and teacher {tuple(teacher.shape)}')
    if student.shape[0] != teacher.shape[0] or student.shape[2:] != teacher.shape[2:]:
        raise ValueError(
            f'{owner}: student {tuple(student.shape)} and teacher {tuple(teacher.shape)} differ '
            'in batch or spatial size; pick layer pairs at the same resolution.')
