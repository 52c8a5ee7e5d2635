"""The two ways `aiops validate` can fail before it has findings (both exit 2). Imports nothing."""


class UsageError(Exception):
    """Bad arguments or an unusable set-up; the message says how to fix it."""


class ToolError(Exception):
    """kubeconform is missing, is the wrong version, or failed; the message says how to fix it."""
