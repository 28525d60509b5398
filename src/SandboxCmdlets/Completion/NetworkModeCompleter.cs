using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sandbox.Completion
{
    /// <summary>Completes -NetworkMode with the engine's own modes and the networks it has.</summary>
    public sealed class NetworkModeCompleter : IArgumentCompleter
    {
        static readonly (string Value, string ToolTip)[] Modes =
        {
            ("bridge", "bridge: the engine's default network, outgoing connections allowed (the default)"),
            ("none", "none: no network at all, only loopback"),
            ("host", "host: the host's own network stack, no isolation of the network"),
        };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, Modes.Concat(CompletionSource.Networks(fakeBoundParameters).Select(n => (n, $"{n} (network on the engine)"))));
    }
}
