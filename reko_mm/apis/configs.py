"""The configs a distillation config implies: its plain student, and what evaluation builds."""
import copy


def student_model_cfg(reko_model_cfg: dict) -> dict:
    """The plain MMagic model config of a ``TeacherStudentGAN`` config (the student alone)."""
    cfg = copy.deepcopy(dict(reko_model_cfg))
    for key in ('teacher', 'distill', 'student_init'):
        cfg.pop(key, None)
    cfg['type'] = cfg.pop('student_type')
    return cfg


def student_config(cfg):
    """A copy of a whole config with a ``TeacherStudentGAN`` model replaced by its plain
    student (unchanged for a plain config): what evaluation and export build."""
    cfg = copy.deepcopy(cfg)
    if cfg.model.get('type') == 'TeacherStudentGAN':
        cfg.model = student_model_cfg(cfg.model)
    return cfg


def evaluation_config(cfg):
    """A copy of a whole config with the model evaluation builds: the plain student, or, for a
    teacher-target config (``model.teacher.as_target``), the student with its teacher and no
    distillation terms, since the teacher's translations are what it is scored against."""
    if cfg.model.get('type') == 'TeacherStudentGAN' and \
            cfg.model.get('teacher', {}).get('as_target'):
        cfg = copy.deepcopy(cfg)
        cfg.model.distill = dict(losses=dict())
        return cfg
    return student_config(cfg)
