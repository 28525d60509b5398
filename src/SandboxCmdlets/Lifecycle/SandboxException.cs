using System;

namespace Sandbox.Lifecycle
{

    /// <summary>An engine failure with a stable PascalCase id that the cmdlets turn into an ErrorRecord.</summary>
    public sealed class SandboxException : Exception
    {
        public string ErrorId { get; }
        public SandboxErrorKind Kind { get; }
        public object? Target { get; }
        public string? RecommendedAction { get; }

        public SandboxException(string errorId, SandboxErrorKind kind, string message, object? target = null, string? recommendedAction = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
            RecommendedAction = recommendedAction;
        }

        /// <summary>Wraps what the engine layer did not foresee, so that no cmdlet shows a raw .NET exception.</summary>
        public static SandboxException FromUnexpected(Exception e)
        {
            if (e is SandboxException s) return s;
            if (e is AggregateException agg && agg.InnerExceptions.Count == 1) return FromUnexpected(agg.InnerException!);
            if (e is Docker.DotNet.DockerApiException api)
                return new SandboxException("DockerEngineError", SandboxErrorKind.NotSpecified,
                    $"The Docker engine answered {(int)api.StatusCode}: {EngineErrors.Message(api)}", null, null, e);
            return new SandboxException("UnexpectedError", SandboxErrorKind.NotSpecified, e.Message, null, null, e);
        }
    }
}
