#if NET
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;

namespace Sandbox.Hosting
{
    /// <summary>
    /// On PowerShell 7 the module's dependencies (Docker.DotNet, SSH.NET, BouncyCastle, Microsoft.Extensions.*, ...) sit in
    /// bin/net8.0/deps, a folder PowerShell never probes, and load into this context; so a copy of the same assembly that
    /// another module loaded first, older or newer, never meets ours. Sandbox.dll stays in the default context, and with
    /// it every type users see: the cmdlets, Sandbox, SandboxCommandResult.
    /// </summary>
    /// <remarks>
    /// Sandbox.psm1 loads Sandbox.dll, calls <see cref="Initialize"/>, then imports the cmdlets. Two paths reach a dependency:
    /// <list type="bullet">
    /// <item>A dependency asking for another (Docker.DotNet for Microsoft.Extensions.Logging.Abstractions): this context's
    /// <see cref="Load"/> answers from deps before the default context is asked.</item>
    /// <item>Sandbox.dll's own references (Docker.DotNet, Renci.SshNet, ILogger, ...): the default context binds them; when it
    /// has no copy, or an older one, it raises Resolving, which this class answers for those names only, from this context.
    /// Initialize binds all of them at once, and this context hands its dependencies the very assemblies Sandbox.dll got,
    /// so that the types both sides share (IDockerHandlerFactory, ILogger) are one type even when the default context
    /// already held a newer copy that Sandbox.dll bound to.</item>
    /// </list>
    /// Without a deps folder (dotnet build output, the xunit host) nothing is hooked: everything loads from beside Sandbox.dll.
    /// </remarks>
    public sealed class DependencyLoadContext : AssemblyLoadContext
    {
        public const string FolderName = "deps";

        static readonly object InitLock = new object();
        static volatile DependencyLoadContext? _instance;

        readonly string _folder;
        readonly Assembly _module;
        readonly Dictionary<string, AssemblyName> _moduleReferences;      // dependencies Sandbox.dll itself references, by name
        readonly ConcurrentDictionary<string, Assembly> _moduleBindings = new ConcurrentDictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        readonly Dictionary<string, Assembly> _loaded = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        readonly Lazy<Dictionary<string, string>> _framework = new Lazy<Dictionary<string, string>>(FrameworkAssemblies);

        DependencyLoadContext(Assembly module, string folder) : base("Sandbox", isCollectible: false)
        {
            _module = module;
            _folder = folder;
            _moduleReferences = module.GetReferencedAssemblies()
                .Where(r => r.Name != null && File.Exists(PathOf(r.Name)))
                .ToDictionary(r => r.Name!, StringComparer.OrdinalIgnoreCase);
        }

        /// <summary>The deps folder in use, or null when the dependencies load beside Sandbox.dll.</summary>
        public static string? Folder => _instance?._folder;

        /// <summary>The context the dependencies load into, or null when there is none.</summary>
        public static AssemblyLoadContext? Instance => _instance;

        /// <summary>Sets up the context once per process; later calls (module re-imports) do nothing.</summary>
        public static void Initialize()
        {
            lock (InitLock)
            {
                if (_instance != null) return;
                var module = typeof(DependencyLoadContext).Assembly;
                var folder = Path.Combine(Path.GetDirectoryName(module.Location) ?? ".", FolderName);
                if (!Directory.Exists(folder)) return;

                var context = new DependencyLoadContext(module, folder);
                Default.Resolving += context.ResolveForModule;
                _instance = context;
                context.BindModuleReferences();
            }
        }

        /// <summary>Default context, Resolving: only Sandbox.dll's own dependencies, which it has no (suitable) copy of.</summary>
        Assembly? ResolveForModule(AssemblyLoadContext context, AssemblyName name) =>
            name.Name != null && _moduleReferences.ContainsKey(name.Name) ? LoadDependency(name.Name) : null;

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name == null) return null;
            if (_moduleBindings.TryGetValue(name.Name, out var bound)) return bound;
            // A reference Sandbox.dll has not bound yet: ask the default context as Sandbox.dll will, so both get one copy.
            if (_moduleReferences.TryGetValue(name.Name, out var reference)) return Default.LoadFromAssemblyName(reference);
            if (!File.Exists(PathOf(name.Name))) return null;                 // the framework, PowerShell, Sandbox.dll
            if (IsInFramework(name)) return null;                             // the runtime's copy is as new: use it
            return LoadDependency(name.Name);
        }

        Assembly LoadDependency(string name)
        {
            lock (_loaded)
            {
                if (!_loaded.TryGetValue(name, out var assembly))
                {
                    assembly = LoadFromAssemblyPath(PathOf(name));
                    _loaded[name] = assembly;
                }
                return assembly;
            }
        }

        /// <summary>
        /// Binds every dependency reference of Sandbox.dll now (by resolving one type of each through its own metadata, the
        /// way the JIT would), and remembers what each one bound to. Later, a module loaded by someone else cannot change
        /// what Sandbox.dll sees, and this context shares exactly those assemblies with the dependencies.
        /// </summary>
        void BindModuleReferences()
        {
            using var pe = new PEReader(File.OpenRead(_module.Location));
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.TypeReferences)
            {
                var typeReference = metadata.GetTypeReference(handle);
                if (typeReference.ResolutionScope.Kind != HandleKind.AssemblyReference) continue;
                var assemblyName = metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)typeReference.ResolutionScope).Name);
                if (!_moduleReferences.ContainsKey(assemblyName) || _moduleBindings.ContainsKey(assemblyName)) continue;
                try
                {
                    var type = _module.ManifestModule.ResolveType(MetadataTokens.GetToken(handle));
                    if (!string.Equals(type.Assembly.GetName().Name, assemblyName, StringComparison.OrdinalIgnoreCase)) continue;   // forwarded
                    _moduleBindings[assemblyName] = type.Assembly;
                }
                catch (Exception e) when (e is TypeLoadException || e is FileLoadException || e is FileNotFoundException || e is BadImageFormatException)
                {
                    // Left unbound: the default context decides when Sandbox.dll first uses it, and Load asks it the same way.
                }
            }
        }

        bool IsInFramework(AssemblyName name)
        {
            if (name.Name == null || !_framework.Value.TryGetValue(name.Name, out var path)) return false;
            try { return AssemblyName.GetAssemblyName(path).Version >= (name.Version ?? new Version(0, 0)); }
            catch (Exception e) when (e is IOException || e is BadImageFormatException) { return false; }
        }

        static Dictionary<string, string> FrameworkAssemblies()
        {
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
            foreach (var path in list.Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
                result[Path.GetFileNameWithoutExtension(path)] = path;
            return result;
        }

        string PathOf(string assemblyName) => Path.Combine(_folder, assemblyName + ".dll");
    }
}
#endif
