import importlib
import types


class LazyLoader(types.ModuleType):
    def __init__(self, local_name, parent_globals, name):
        self._local_name = local_name
        self._parent_globals = parent_globals
        super().__init__(name)

    def __getattr__(self, item):
        module = importlib.import_module(self.__name__)
        self._parent_globals[self._local_name] = module
        return getattr(module, item)
