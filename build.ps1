<#
.SYNOPSIS
    Builds, documents, tests and demonstrates the Sandbox module.

.DESCRIPTION
    Tasks (run in the order given; each runs at most once, and Test/Demo run Build first):
      Build   dotnet publish src/SandboxCmdlets for net8.0 and netstandard2.0 and lay out
              output/Sandbox/<version>/ (psd1, psm1, Format.ps1xml, bin/<tfm>/, en-US/ help); on net8.0
              the dependencies go to bin/net8.0/deps (the module's own AssemblyLoadContext).
      Help    docs/en-US/*.md -> en-US/Sandbox.dll-Help.xml (MAML) and about_*.help.txt
              (part of Build when docs/en-US has pages).
      Test    build the local images (busybox and polyglot), start the test registry (127.0.0.1:5000) and sshd
              (127.0.0.1:2222), check dockerd's TLS listener (127.0.0.1:2376), bring up the test swarm, run the xunit
              project(s) under tests/ and the Pester tests in tests/Pester; ends with the line
              "N passed, N failed, N skipped" (a Pester test that ends Inconclusive counts as failed).
      Demo    build the busybox image (the only one the demo uses) and run examples/demo.ps1 against the
              built module in a real sandbox; ends with how long the whole run took (from build.sh's start).
      TestImage      build sandbox-local/busybox:latest unless it is there (tests/setup/New-TestImage.sh; a second).
      TestSwarm      bring up the 3-node test swarm (tests/setup/Start-TestSwarm.sh: three more dockerd, each in its own
              network namespace, at 10.213.0.11-13; node1 the manager); Test and Bench run it. About 3 s cold, under 1 s warm.
      PolyglotImage  build sandbox-local/polyglot:bookworm unless it is there (tests/setup/New-PolyglotImage.sh:
              debootstrap, a few minutes once per engine), which the tests and the polyglot examples use.
      Package build, then make output/packages/Sandbox.<version>.nupkg for the PowerShell Gallery with
              PSResourceGet (tools/New-ModulePackage.ps1: Publish-PSResource to a local folder repository
              registered for the occasion and unregistered again).
      Bench   time the module against the docker CLI (and the Python SDK) in the same run: tests/bench/Invoke-Benchmark.ps1;
              table on screen, JSON in output/bench/bench.json.
      Clean   remove output/.

    Use ./build.sh on a fresh machine: it installs Docker and the tools first, then runs this script.

.EXAMPLE
    ./build.sh Test -TestName '*Copy-SandboxItem*'
#>
[CmdletBinding()]
param(
    # Build, Help, Test, Demo, Package, Bench, Clean, TestImage, PolyglotImage, TestSwarm; several as "Clean Build" or "Clean,Build".
    [Parameter(Position = 0, ValueFromRemainingArguments)]
    [string[]] $Task = 'Build',

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    # Pester: run only tests whose full name ("Describe Context It") matches one of these wildcards.
    [Alias('Filter')]
    [string[]] $TestName,

    # xunit: passed to `dotnet test --filter` (e.g. 'FullyQualifiedName~Exec').
    [string] $XunitFilter,

    # Which test suites the Test task runs.
    [ValidateSet('All', 'Xunit', 'Pester')]
    [string] $Suite = 'All'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Colour only on a terminal: a log file or a pipe gets plain text, from this script and (through NO_COLOR, which
# pwsh and Pester honour) from every pwsh it starts. pwsh's own 'Host' rendering still colours formatted output
# when its stdout is a file.
if ([Console]::IsOutputRedirected -or $env:NO_COLOR) {
    $PSStyle.OutputRendering = 'PlainText'
    $env:NO_COLOR = '1'
}

$Root = $PSScriptRoot
$Output = Join-Path $Root 'output'
$ModuleSource = Join-Path $Root 'module'
$Project = Join-Path $Root 'src/SandboxCmdlets/SandboxCmdlets.csproj'
$Frameworks = 'net8.0', 'netstandard2.0'      # the psm1 loader picks bin/net8.0 (Core) or bin/netstandard2.0 (Desktop)
$TestImage = 'sandbox-local/busybox:latest'
# Debian with python3 and nodejs (tests/setup/New-PolyglotImage.sh); SANDBOX_POLYGLOT_IMAGE names another tag.
$PolyglotImage = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
$PesterVersion = '5.7.1'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

$script:Done = [Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)

$Tasks = 'Build', 'Help', 'Test', 'Demo', 'Package', 'Bench', 'Clean', 'TestImage', 'PolyglotImage', 'TestSwarm'
$Task = @(foreach ($t in $Task -split ',' | ForEach-Object Trim | Where-Object { $_ }) {
        if ($t -notin $Tasks) { Write-Host "build.ps1: unknown task or argument '$t' (tasks: $($Tasks -join ', '))" -ForegroundColor Red; exit 2 }
        $Tasks | Where-Object { $_ -eq $t }   # canonical spelling
    })

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

# Runs a native command; throws when it fails.
function Invoke-Native([string] $File, [string[]] $Arguments) {
    Write-Host "    $File $($Arguments -join ' ')" -ForegroundColor DarkGray
    & $File @Arguments | Out-Host     # to the console, never into a function's return value
    if ($LASTEXITCODE -ne 0) { throw "'$File $($Arguments -join ' ')' failed with exit code $LASTEXITCODE" }
}

function Get-ModuleVersion {
    $psd1 = Join-Path $ModuleSource 'Sandbox.psd1'
    if (-not (Test-Path $psd1)) { throw "Module manifest not found: $psd1" }
    (Import-PowerShellDataFile -LiteralPath $psd1).ModuleVersion
}

function Get-ModuleOutputPath { Join-Path $Output "Sandbox/$(Get-ModuleVersion)" }

# The built manifest: what tests and the demo import.
function Get-BuiltManifest { Join-Path (Get-ModuleOutputPath) 'Sandbox.psd1' }

function Invoke-Task([string] $Name) {
    if (-not $script:Done.Add($Name)) { return }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & "Invoke-$Name"
    Write-Host ("    {0} done in {1:0.0}s" -f $Name, $sw.Elapsed.TotalSeconds) -ForegroundColor DarkGray
}

function Invoke-Clean {
    Write-Step 'Clean'
    if (Test-Path $Output) { Remove-Item -LiteralPath $Output -Recurse -Force }
}

function Invoke-Build {
    $version = Get-ModuleVersion
    $dest = Get-ModuleOutputPath
    Write-Step "Build Sandbox $version ($Configuration) -> $dest"

    # One version folder only, rebuilt from scratch so no stale file survives.
    $moduleRoot = Join-Path $Output 'Sandbox'
    if (Test-Path $moduleRoot) { Remove-Item -LiteralPath $moduleRoot -Recurse -Force }
    $null = New-Item -ItemType Directory -Force -Path $dest

    foreach ($tfm in $Frameworks) {
        Invoke-Native dotnet @('publish', $Project, '-c', $Configuration, '-f', $tfm,
            '-o', (Join-Path $dest "bin/$tfm"), '--nologo', '-v', 'quiet', '-clp:NoSummary')
    }
    Move-DependenciesAside (Join-Path $dest 'bin/net8.0')
    foreach ($file in 'Sandbox.psd1', 'Sandbox.psm1', 'Sandbox.Format.ps1xml') {
        $source = Join-Path $ModuleSource $file
        if (Test-Path $source) { Copy-Item -LiteralPath $source -Destination $dest }
        else { Write-Warning "module/$file is missing" }
    }
    Copy-Item -LiteralPath (Join-Path $Root 'LICENSE') -Destination $dest   # ships in the package
    if (Get-ChildItem (Join-Path $Root 'docs/en-US') -Filter *.md -ErrorAction SilentlyContinue) { Write-HelpFiles }
}

# PowerShell 7: only Sandbox.dll stays in bin/net8.0 (it loads into the default context); its dependencies go to
# bin/net8.0/deps, a folder PowerShell never probes, where Sandbox.Hosting.DependencyLoadContext loads them into the
# module's own AssemblyLoadContext. bin/netstandard2.0 (Windows PowerShell, no load contexts) stays flat.
function Move-DependenciesAside([string] $BinPath) {
    $deps = Join-Path $BinPath 'deps'
    $null = New-Item -ItemType Directory -Force -Path $deps
    Remove-Item -LiteralPath (Join-Path $BinPath 'Sandbox.deps.json') -ErrorAction SilentlyContinue   # describes the flat layout
    Get-ChildItem -LiteralPath $BinPath -File |
        Where-Object Name -NotIn 'Sandbox.dll', 'Sandbox.pdb' |
        Move-Item -Destination $deps
    foreach ($dir in Get-ChildItem -LiteralPath $BinPath -Directory | Where-Object Name -NotIn 'deps', 'en-US') {
        Move-Item -LiteralPath $dir.FullName -Destination $deps   # runtimes/, satellite resources of the dependencies
    }
}

function Invoke-Help {
    if (Test-Path (Join-Path (Get-ModuleOutputPath) 'bin')) { Write-HelpFiles }
    else { Invoke-Task Build }   # Build makes the help files too
}

function Write-HelpFiles {
    $dest = Get-ModuleOutputPath
    Write-Step 'Help: docs/en-US -> en-US (MAML and about topics)'
    $helpDir = Join-Path $dest 'en-US'
    $null = & (Join-Path $Root 'tools/ConvertTo-MamlHelp.ps1') -Path (Join-Path $Root 'docs/en-US') -OutputPath $helpDir
    # Get-Help looks for <assembly>-Help.xml beside the module manifest and beside the assembly.
    foreach ($tfm in $Frameworks) {
        $target = Join-Path $dest "bin/$tfm/en-US"
        $null = New-Item -ItemType Directory -Force -Path $target
        Copy-Item -Path (Join-Path $helpDir '*.xml') -Destination $target -ErrorAction SilentlyContinue
    }
    Get-ChildItem $helpDir | ForEach-Object { Write-Host "    en-US/$($_.Name)" -ForegroundColor DarkGray }
}

function Invoke-TestImage {
    Write-Step "Test image $TestImage"
    Invoke-Native bash @((Join-Path $Root 'tests/setup/New-TestImage.sh'))
}

# Only for the tasks that use it (Test): the demo and the busybox examples never wait for debootstrap.
function Invoke-PolyglotImage {
    Write-Step "Polyglot image $PolyglotImage (for the tests and the polyglot examples; built once per engine, then kept)"
    $env:SANDBOX_POLYGLOT_IMAGE = $PolyglotImage
    Invoke-Native bash @((Join-Path $Root 'tests/setup/New-PolyglotImage.sh'))
}

# Environment the test processes and the demo get.
function Set-TestEnvironment {
    $env:SANDBOX_MODULE_PATH = Get-BuiltManifest     # tests: Import-Module $env:SANDBOX_MODULE_PATH
    $env:SANDBOX_REPO_ROOT = $Root
    $env:SANDBOX_TEST_IMAGE = $TestImage
    $env:SANDBOX_POLYGLOT_IMAGE = $PolyglotImage
    if (-not $env:SANDBOX_IMAGE) { $env:SANDBOX_IMAGE = $TestImage }   # no registry here: default to the local image
}

function Invoke-Xunit {
    $results = @{ Passed = 0; Failed = 0; Skipped = 0; Error = $null; Failures = @() }
    $projects = @(Get-ChildItem (Join-Path $Root 'tests') -Filter *.csproj -Recurse -Depth 1 |
            Where-Object { (Get-Content -Raw -LiteralPath $_.FullName) -match 'Include="xunit' })
    if (-not $projects) { Write-Step 'xunit: no test project under tests/, skipped'; return $results }

    $resultsDir = Join-Path $Output 'TestResults'
    # This machine has only the .NET 10 runtime: let a net8.0 test host run on it.
    if (-not $env:DOTNET_ROLL_FORWARD) { $env:DOTNET_ROLL_FORWARD = 'Major' }
    foreach ($proj in $projects) {
        Write-Step "xunit: $($proj.Directory.Name)"
        $trx = Join-Path $resultsDir "$($proj.BaseName).trx"
        Remove-Item -LiteralPath $trx -ErrorAction SilentlyContinue
        $arguments = @('test', $proj.FullName, '-c', $Configuration, '--nologo',
            '--logger', "trx;LogFileName=$trx", '--logger', 'console;verbosity=normal', '--results-directory', $resultsDir)
        if ($XunitFilter) { $arguments += @('--filter', $XunitFilter) }
        Write-Host "    dotnet $($arguments -join ' ')" -ForegroundColor DarkGray
        & dotnet @arguments | Out-Host
        $exit = $LASTEXITCODE
        if (-not (Test-Path $trx)) {
            $results.Error = "dotnet test $($proj.Name) exited with $exit and wrote no results"
            continue
        }
        $run = [xml](Get-Content -Raw -LiteralPath $trx)
        $counters = $run.TestRun.ResultSummary.Counters
        foreach ($skip in $run.SelectNodes("//*[local-name()='UnitTestResult'][@outcome='NotExecuted']")) {
            Write-Host "    skipped $($skip.testName): $($skip.SelectSingleNode(".//*[local-name()='Message']").InnerText)" -ForegroundColor Yellow
        }
        foreach ($fail in $run.SelectNodes("//*[local-name()='UnitTestResult'][@outcome='Failed']")) {
            $message = "$($fail.SelectSingleNode(".//*[local-name()='Message']").InnerText)".Trim()
            $results.Failures += [pscustomobject]@{ Name = $fail.testName; Error = ($message -split '\r?\n')[0] }
        }
        $results.Passed += [int]$counters.passed
        $results.Failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $results.Skipped += [Math]::Max(0, [int]$counters.total - [int]$counters.executed)   # skipped tests
        if ($exit -ne 0 -and [int]$counters.failed -eq 0) {   # build error, aborted test host, ...
            $results.Error = "dotnet test $($proj.Name) exited with $exit"
        }
    }
    $results
}

function Invoke-PesterTests {
    $results = @{ Passed = 0; Failed = 0; Skipped = 0; Error = $null; Failures = @() }
    $testDir = Join-Path $Root 'tests/Pester'
    if (-not (Get-ChildItem $testDir -Filter *.Tests.ps1 -Recurse -ErrorAction SilentlyContinue)) {
        Write-Step 'Pester: no tests/Pester/*.Tests.ps1, skipped'
        return $results
    }
    $pester = Get-PesterManifest
    Write-Step "Pester ${PesterVersion}: tests/Pester (child pwsh, module $env:SANDBOX_MODULE_PATH)"
    $summary = Join-Path $Output 'TestResults/pester-summary.json'
    Remove-Item -LiteralPath $summary -ErrorAction SilentlyContinue
    $arguments = @('tool', 'run', 'pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/tools/Invoke-PesterTests.ps1'),
        '-PesterManifest', $pester, '-TestPath', $testDir, '-ResultDirectory', (Join-Path $Output 'TestResults'), '-SummaryPath', $summary)
    # pwsh on Unix expands wildcards in native arguments that come from variables or arrays ('*examples/*' would
    # become the files under examples/); a quoted string as the argument itself is passed as written.
    if ($TestName) { & dotnet @arguments -FullNameFilter "$($TestName -join ',')" | Out-Host }
    else { & dotnet @arguments | Out-Host }
    $exit = $LASTEXITCODE
    if (-not (Test-Path $summary)) {
        $results.Error = "Pester run exited with $exit and wrote no summary"
        return $results
    }
    $s = Get-Content -Raw -LiteralPath $summary | ConvertFrom-Json
    $results.Passed = $s.Passed
    $results.Failed = $s.Failed   # Inconclusive included (tests/tools/Invoke-PesterTests.ps1)
    $results.Skipped = $s.Skipped
    $results.Failures = @($s.Failures | Where-Object { $_ })
    if ($s.Result -ne 'Passed' -and $s.Failed -eq 0) { $results.Error = "Pester result: $($s.Result)" }
    $results
}

# Pester comes from NuGet (PSGallery is not reachable): restore tests/tools/Tools.csproj once.
function Get-PesterManifest {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $manifest = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $manifest)) {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/tools/Tools.csproj'), '--nologo', '-v', 'quiet')
    }
    if (-not (Test-Path $manifest)) { throw "Pester $PesterVersion not found at $manifest after restore" }
    $manifest
}

# A registry on 127.0.0.1:5000 holding the test image, so that pull tests make the engine really pull.
function Invoke-TestRegistry {
    Write-Step 'Test registry on 127.0.0.1:5000'
    $image = & bash (Join-Path $Root 'tests/setup/Start-TestRegistry.sh')
    if ($LASTEXITCODE -ne 0) { throw "tests/setup/Start-TestRegistry.sh failed with exit code $LASTEXITCODE" }
    $env:SANDBOX_TEST_REGISTRY_IMAGE = $image | Select-Object -Last 1
}

# The remote engines for the ssh:// and tcp:// + TLS tests; all three endpoints reach the same local dockerd.
# build.sh makes the TLS material and starts dockerd with its TLS-only listener (tcp://127.0.0.1:2376 and
# tcp://127.0.0.2:2376, whose name the server certificate lacks); this checks the listener answers and starts
# the test sshd on 127.0.0.1:2222 (and the one-host-key sshd on 2223-2225). State lives in $SANDBOX_TEST_STATE
# (default /var/lib/sandbox-test).
function Invoke-TestRemoteEngines {
    Write-Step 'Remote engines: dockerd TLS listener on 127.0.0.1:2376, sshd on 127.0.0.1:2222 (and 2223-2225 with one host key each)'
    $tlsDir = & bash (Join-Path $Root 'tests/setup/New-TestTls.sh') | Select-Object -Last 1
    if ($LASTEXITCODE -ne 0) { throw "tests/setup/New-TestTls.sh failed with exit code $LASTEXITCODE" }
    $sshHome = & bash (Join-Path $Root 'tests/setup/Start-TestSshd.sh') | Select-Object -Last 1
    if ($LASTEXITCODE -ne 0) { throw "tests/setup/Start-TestSshd.sh failed with exit code $LASTEXITCODE" }

    $client = Join-Path $tlsDir 'client'
    & curl -fs --max-time 3 --cacert "$client/ca.pem" --cert "$client/cert.pem" --key "$client/key.pem" https://127.0.0.1:2376/_ping | Out-Null
    if ($LASTEXITCODE -ne 0) {
        $message = "dockerd does not answer TLS on tcp://127.0.0.1:2376 with the certificates in $tlsDir; " +
            'run ./build.sh (it starts dockerd with the TLS listener; SANDBOX_TEST_RESTART_DOCKERD=1 restarts a dockerd started another way).'
        if ($env:CI -eq 'true') { throw $message }
        Write-Warning "$message The tcp:// + TLS tests will fail."
    }

    $env:SANDBOX_TEST_SSH_HOST = 'ssh://root@127.0.0.1:2222'          # key login as root
    $env:SANDBOX_TEST_SSH_HOME = $sshHome                             # HOME for ssh:// (.ssh/ keys + known_hosts; bin/ssh for the docker CLI)
    $env:SANDBOX_TEST_SSH_USER = 'sandboxtest'                        # local user (group docker) for password logins
    $env:SANDBOX_TEST_SSH_USER_PASSWORD_FILE = Join-Path (Split-Path $sshHome) 'sshd/password.txt'
    $env:SANDBOX_TEST_TLS_HOST = 'tcp://127.0.0.1:2376'               # with DOCKER_CERT_PATH=$SANDBOX_TEST_TLS_DIR/client
    $env:SANDBOX_TEST_TLS_WRONGNAME_HOST = 'tcp://127.0.0.2:2376'     # same certificates; the server name check must fail
    $env:SANDBOX_TEST_TLS_DIR = $tlsDir                               # client/, wrong-ca/, wrong-name/, untrusted-client/
}

# A real 3-node Docker Swarm (tests/setup/Start-TestSwarm.sh): three more dockerd on this machine, each in its own
# network namespace, TLS-only on tcp://10.213.0.1{1,2,3}:2376 with the test CA (client certificates in
# $SANDBOX_TEST_TLS_DIR/client); node1 is the only manager. The test image is loaded into every node (there is no
# registry). Tests may kill and revive workers: & $env:SANDBOX_TEST_SWARM_SCRIPT --kill-node node3 / --revive-node node3.
function Invoke-TestSwarm {
    Write-Step 'Test swarm: 3 dockerd in network namespaces (tcp://10.213.0.11-13:2376, node1 the manager)'
    Invoke-Task TestImage                  # loaded into every node
    $script = Join-Path $Root 'tests/setup/Start-TestSwarm.sh'
    $env:SANDBOX_TEST_IMAGE = $TestImage
    $manager = & bash $script | Select-Object -Last 1
    if ($LASTEXITCODE -ne 0 -or $manager -notmatch '^tcp://') {
        $message = "tests/setup/Start-TestSwarm.sh failed (exit code $LASTEXITCODE; node logs in /tmp/sandbox-swarm-node*.log)"
        if ($env:CI -eq 'true') { throw $message }
        Write-Warning "$message. The swarm tests will fail."
        return
    }
    $state = if ($env:SANDBOX_TEST_STATE) { $env:SANDBOX_TEST_STATE } else { '/var/lib/sandbox-test' }
    $env:SANDBOX_TEST_SWARM_MANAGER = $manager                                  # tcp://10.213.0.11:2376
    $env:SANDBOX_TEST_SWARM_CERT_PATH = Join-Path $state 'tls/client'            # DOCKER_CERT_PATH for every node
    $env:SANDBOX_TEST_SWARM_NODES = 'sandbox-node1,sandbox-node2,sandbox-node3'  # node host names; node1 the manager
    $env:SANDBOX_TEST_SWARM_SCRIPT = $script                                    # --kill-node/--revive-node node2|node3
    $env:SANDBOX_TEST_SWARM_STATE = Join-Path $state 'swarm'
}

function Invoke-Test {
    Invoke-Task Build
    Invoke-Task TestImage
    Invoke-Task PolyglotImage
    Invoke-Task TestRegistry
    Invoke-Task TestRemoteEngines
    Invoke-Task TestSwarm
    Set-TestEnvironment
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $runs = [ordered]@{}
    if ($Suite -in 'All', 'Xunit') { $runs.xunit = Invoke-Xunit }
    if ($Suite -in 'All', 'Pester') { $runs.Pester = Invoke-PesterTests }

    Write-Host ''
    Write-Step 'Test summary'
    $passed = $failed = $skipped = 0
    $errors = @()
    foreach ($name in $runs.Keys) {
        $r = $runs[$name]
        Write-Host ("    {0,-7} {1} passed, {2} failed, {3} skipped" -f $name, $r.Passed, $r.Failed, $r.Skipped)
        $passed += $r.Passed; $failed += $r.Failed; $skipped += $r.Skipped
        if ($r.Error) { $errors += "${name}: $($r.Error)" }
        foreach ($f in $r.Failures) { Write-Host "      failed: $($f.Name)`n        $($f.Error)" -ForegroundColor Red }
    }
    foreach ($e in $errors) { Write-Host "    ERROR $e" -ForegroundColor Red }
    Write-Host ("    tests took {0:hh\:mm\:ss}" -f $sw.Elapsed)
    # Printed last of all (see the end of this script): the line CI reads.
    $script:SummaryLine = "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $errors) { $script:ExitCode = 1 }
}

function Invoke-Bench {
    Invoke-Task Build
    Invoke-Task TestImage
    Invoke-Task TestRemoteEngines
    Invoke-Task TestSwarm
    Set-TestEnvironment
    Write-Step 'Bench: tests/bench/Invoke-Benchmark.ps1'
    & dotnet tool run pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'tests/bench/Invoke-Benchmark.ps1')
    if ($LASTEXITCODE -ne 0) { Write-Host "Bench failed (exit code $LASTEXITCODE)" -ForegroundColor Red; $script:ExitCode = 1 }
}

function Invoke-Package {
    Invoke-Task Build
    $packages = Join-Path $Output 'packages'
    Write-Step "Package: Publish-PSResource -> $packages"
    $nupkg = & (Join-Path $Root 'tools/New-ModulePackage.ps1') -ModulePath (Get-ModuleOutputPath) -DestinationPath $packages
    Write-Host "    $($nupkg.FullName) ($([Math]::Round($nupkg.Length / 1MB, 1)) MB)" -ForegroundColor DarkGray
}

function Invoke-Demo {
    Invoke-Task Build
    Invoke-Task TestImage
    Set-TestEnvironment
    Write-Step 'Demo: examples/demo.ps1'
    $manifest = Get-BuiltManifest
    $demo = Join-Path $Root 'examples/demo.ps1'
    $command = "Import-Module '$($manifest -replace "'", "''")' -ErrorAction Stop; & '$($demo -replace "'", "''")'"
    & dotnet tool run pwsh -NoProfile -NonInteractive -Command $command
    if ($LASTEXITCODE -ne 0) { Write-Host "Demo failed (exit code $LASTEXITCODE)" -ForegroundColor Red; $script:ExitCode = 1 }
    $whole = if ($env:SANDBOX_BUILD_STARTED) { "./build.sh $($Task -join ' ')" } else { "build.ps1 $($Task -join ' ')" }
    Write-Host ("`n{0} took {1:0} s in all, from its start to the end of the demo." -f $whole, (Get-RunTime).TotalSeconds)
}

# The time since build.sh started (it exports SANDBOX_BUILD_STARTED, Unix seconds), else since this script did.
function Get-RunTime {
    $started = 0.0
    if ([double]::TryParse("$env:SANDBOX_BUILD_STARTED", [Globalization.NumberStyles]::Float, [cultureinfo]::InvariantCulture, [ref] $started)) {
        return [DateTimeOffset]::UtcNow - [DateTimeOffset]::FromUnixTimeMilliseconds([long]($started * 1000))
    }
    $script:Clock.Elapsed
}

$script:ExitCode = 0
$script:SummaryLine = $null
$script:Clock = [Diagnostics.Stopwatch]::StartNew()
Push-Location $Root
try {
    foreach ($t in $Task) { Invoke-Task $t }
} catch {
    Write-Host "build.ps1: $($_.Exception.Message)" -ForegroundColor Red
    Write-Host $_.ScriptStackTrace -ForegroundColor DarkGray
    $script:ExitCode = 1
} finally {
    Pop-Location
}
Write-Host ("build.ps1 {0}: {1} in {2:hh\:mm\:ss}" -f ($Task -join ','), $(if ($script:ExitCode) { 'FAILED' } else { 'ok' }), $script:Clock.Elapsed)
if ($script:SummaryLine) { Write-Host $script:SummaryLine }
exit $script:ExitCode
