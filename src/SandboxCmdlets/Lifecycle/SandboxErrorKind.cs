namespace Sandbox.Lifecycle
{
    /// <summary>What kind of failure, mapped one-to-one onto PowerShell's ErrorCategory by the cmdlets.</summary>
    public enum SandboxErrorKind
    {
        NotSpecified,
        ObjectNotFound,
        InvalidArgument,
        InvalidData,
        ResourceExists,
        ResourceUnavailable,
        ConnectionError,
        OperationTimeout,
        InvalidOperation,
        PermissionDenied,
        SecurityError,
        OperationStopped,
    }
}
