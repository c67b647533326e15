from . import access_export
