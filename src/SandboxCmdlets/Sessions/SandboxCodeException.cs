using System;

namespace Sandbox.Sessions
{
    /// <summary>Code run in a session's kernel raised an error; the message is the language's own traceback (Python) or stack (Node).</summary>
    public sealed class SandboxCodeException : Exception
    {
        public string Language { get; }
        public string Traceback { get; }

        public SandboxCodeException(string language, string traceback) : base(traceback.TrimEnd('\n', '\r'))
        {
            Language = language;
            Traceback = traceback;
        }
    }
}
