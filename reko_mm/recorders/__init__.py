from .module_output_recorder import ModuleOutputRecorder, resolve_module

__all__ = ['ModuleOutputRecorder', 'resolve_module']
