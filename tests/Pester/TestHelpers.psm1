# Shared setup for the Sandbox end-to-end tests.
#
# Every test file starts with:
#     BeforeAll { Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force; Initialize-SandboxTest -Area 'xyz' }
#     AfterAll  { Complete-SandboxTest }
#
# Initialize-SandboxTest imports the module under test (from $env:SANDBOX_MODULE_PATH, else the newest
# output/Sandbox/<version>/Sandbox.psd1), makes sure the local test image exists, points $env:SANDBOX_IMAGE
# at it and picks a unique name prefix for this file. Remove-TestContainer removes every container the file
# made: sandboxes owned by this process, anything whose name starts with the prefix (sandboxes made by child
# processes and plain `docker run` containers alike); Complete-SandboxTest does that and clears the
# global state the tests set.

Set-StrictMode -Version 3.0

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:Prefix = $null
$script:TestImage = $null

function Get-TestRepoRoot { $script:RepoRoot }

function Get-SandboxModulePath {
    if ($env:SANDBOX_MODULE_PATH) {
        if (-not (Test-Path -LiteralPath $env:SANDBOX_MODULE_PATH)) {
            throw "SANDBOX_MODULE_PATH points at '$env:SANDBOX_MODULE_PATH', which does not exist."
        }
        return (Resolve-Path -LiteralPath $env:SANDBOX_MODULE_PATH).Path
    }
    $built = Get-ChildItem -Path (Join-Path $script:RepoRoot 'output/Sandbox/*/Sandbox.psd1') -ErrorAction SilentlyContinue |
        Sort-Object { [version]$_.Directory.Name } -Descending |
        Select-Object -First 1
    if (-not $built) {
        throw "The Sandbox module is not built: run 'build.ps1 Build' or set SANDBOX_MODULE_PATH to a Sandbox.psd1."
    }
    $built.FullName
}

function Initialize-SandboxTest {
    param(
        # A short word naming the test file; part of every container name the file makes.
        [Parameter(Mandatory)] [string] $Area
    )
    $modulePath = Get-SandboxModulePath
    $env:SANDBOX_MODULE_PATH = $modulePath   # child pwsh processes import the same build
    Import-Module $modulePath -Force -Global -ErrorAction Stop

    $script:TestImage = if ($env:SANDBOX_TEST_IMAGE) { $env:SANDBOX_TEST_IMAGE } else { 'sandbox-local/busybox:latest' }
    docker image inspect $script:TestImage *> $null
    if ($LASTEXITCODE -ne 0) {
        $setup = Join-Path $script:RepoRoot 'tests/setup/New-TestImage.sh'
        if (Test-Path -LiteralPath $setup) { bash $setup | Out-Host }
        docker image inspect $script:TestImage *> $null
        if ($LASTEXITCODE -ne 0) { throw "Test image '$script:TestImage' is missing; build it with tests/setup/New-TestImage.sh." }
    }
    $env:SANDBOX_IMAGE = $script:TestImage

    $script:Prefix = 'sbt-{0}-{1}' -f $Area.ToLowerInvariant(), [Guid]::NewGuid().ToString('n').Substring(0, 6)

    # Sandboxes a test forgets (or a killed test run leaves) die on their own within two minutes.
    $global:PSDefaultParameterValues['New-Sandbox:Timeout'] = 120
    $global:PSDefaultParameterValues['Use-Sandbox:Timeout'] = 120
}

function Get-TestImage { $script:TestImage }
function Get-TestPrefix { $script:Prefix }

function New-TestName {
    # A container name unique to this run: <prefix>-<what>-<4 hex>.
    param([string] $What = 'sb')
    '{0}-{1}-{2}' -f $script:Prefix, $What, [Guid]::NewGuid().ToString('n').Substring(0, 4)
}

function New-TestProjectId {
    param([string] $What = 'proj')
    '{0}-{1}-{2}' -f $script:Prefix, $What, [Guid]::NewGuid().ToString('n').Substring(0, 4)
}

function Get-TestContainer {
    # Every container (any state) that this test file is responsible for, as "id name" records.
    $records = docker ps -a --no-trunc --format '{{.ID}}|{{.Names}}|{{.Label "io.sandbox.managed"}}|{{.Label "io.sandbox.owner"}}'
    foreach ($line in $records) {
        if (-not $line) { continue }
        $id, $name, $managed, $owner = $line -split '\|', 4
        $mine = ($script:Prefix -and $name -like "$script:Prefix*") -or
                ($managed -eq 'true' -and $owner -like "*:$PID")
        if ($mine) { [pscustomobject]@{ Id = $id; Name = $name; Managed = $managed -eq 'true'; Owner = $owner } }
    }
}

function Remove-TestContainer {
    # Removes every container this file made, whatever happened in the tests.
    $ids = @(Get-TestContainer | ForEach-Object Id)
    if ($ids.Count) { docker rm -f @ids *> $null }
}

function Complete-SandboxTest {
    # The end of a test file: its containers and the session state the tests set go away.
    Remove-TestContainer
    Remove-Variable -Name 'SandboxTest*' -Scope Global -ErrorAction SilentlyContinue
    $global:PSDefaultParameterValues.Remove('New-Sandbox:Timeout')
    $global:PSDefaultParameterValues.Remove('Use-Sandbox:Timeout')
}

function Test-ContainerExists {
    # True when a container with this name or id exists in any state (what `docker ps -a` shows).
    param([Parameter(Mandatory)] [string] $NameOrId)
    $all = docker ps -a --no-trunc --format '{{.ID}} {{.Names}}'
    foreach ($line in $all) {
        $id, $name = $line -split ' ', 2
        if ($name -eq $NameOrId -or $id -eq $NameOrId -or ($NameOrId.Length -ge 12 -and $id.StartsWith($NameOrId))) { return $true }
    }
    $false
}

function Get-ContainerInspect {
    param([Parameter(Mandatory)] [string] $NameOrId)
    $json = docker container inspect $NameOrId 2>$null
    if ($LASTEXITCODE -ne 0) { throw "docker inspect: no container '$NameOrId'." }
    ($json | ConvertFrom-Json)[0]
}

function Get-ContainerCreated {
    # When the engine created the container, as a UTC DateTime.
    param([Parameter(Mandatory)] [string] $NameOrId)
    $created = docker container inspect --format '{{.Created}}' $NameOrId
    if ($LASTEXITCODE -ne 0) { throw "docker inspect: no container '$NameOrId'." }
    # Docker prints nanoseconds; .NET parses at most 7 fraction digits.
    $created = $created -replace '(\.\d{7})\d+', '$1'
    [datetimeoffset]::Parse($created, [cultureinfo]::InvariantCulture).UtcDateTime
}

function Get-ContainerLabel {
    param([Parameter(Mandatory)] [string] $NameOrId, [Parameter(Mandatory)] [string] $Label)
    $labels = (Get-ContainerInspect $NameOrId).Config.Labels
    $prop = $labels.PSObject.Properties[$Label]
    if ($prop) { $prop.Value }
}

function Get-ManagedContainerName {
    # Names of module-made containers (label io.sandbox.managed=true) that exist now, any state.
    param([string] $Like = '*')
    docker ps -a --filter 'label=io.sandbox.managed=true' --format '{{.Names}}' | Where-Object { $_ -like $Like }
}

function Wait-Until {
    # Polls the condition until it is true or the deadline passes; returns whether it became true.
    param(
        [Parameter(Mandatory)] [scriptblock] $Condition,
        [double] $TimeoutSec = 8,
        [int] $IntervalMs = 200,
        # A UTC point in time; when given, it replaces TimeoutSec.
        [datetime] $Deadline = [datetime]::MinValue
    )
    $end = if ($Deadline -ne [datetime]::MinValue) { $Deadline } else { [datetime]::UtcNow.AddSeconds($TimeoutSec) }
    while ($true) {
        if (& $Condition) { return $true }
        if ([datetime]::UtcNow -ge $end) { return $false }
        Start-Sleep -Milliseconds $IntervalMs
    }
}

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    try { $listener.Start(); $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function New-FileHook {
    # A hook script block that records the sandbox it was given ($_ and $args[0]) in a file.
    # Built from text, so it works in whatever runspace the module runs hooks in.
    param([Parameter(Mandatory)] [string] $Path)
    $escaped = $Path -replace "'", "''"
    [scriptblock]::Create(@"
Add-Content -LiteralPath '$escaped' -Value ('dollar_=' + `$_.Name)
Add-Content -LiteralPath '$escaped' -Value ('args0=' + `$args[0].Name)
"@)
}

function Start-ChildPwsh {
    # Runs a script in a separate pwsh process (the tool-manifest pwsh, started from the repo root).
    # The script gets the module path in $env:SANDBOX_MODULE_PATH and the image in $env:SANDBOX_IMAGE.
    # Returns the System.Diagnostics.Process of the `dotnet tool run` shim; the real pwsh is its child,
    # so a script that must be killed writes its own $PID somewhere.
    param(
        [Parameter(Mandatory)] [string] $Script,
        [Parameter(Mandatory)] [string] $WorkFolder
    )
    $scriptFile = Join-Path $WorkFolder ('child-{0}.ps1' -f [Guid]::NewGuid().ToString('n').Substring(0, 6))
    Set-Content -LiteralPath $scriptFile -Value $Script
    Start-Process -FilePath 'dotnet' -WorkingDirectory $script:RepoRoot -PassThru `
        -RedirectStandardOutput "$scriptFile.out" -RedirectStandardError "$scriptFile.err" `
        -ArgumentList @('tool', 'run', 'pwsh', '-NoProfile', '-NonInteractive', '-File', $scriptFile)
}

function Get-ChildOutput {
    # The child's stdout and stderr, for failure messages.
    param([Parameter(Mandatory)] [string] $WorkFolder)
    Get-ChildItem -LiteralPath $WorkFolder -Filter 'child-*.ps1.*' -ErrorAction SilentlyContinue |
        ForEach-Object { "--- $($_.Name)"; Get-Content -LiteralPath $_.FullName -Raw }
}

function Invoke-WebRequestWithRetry {
    # Invoke-WebRequest, retried until it answers or the time is up (a server inside may still be starting).
    param([Parameter(Mandatory)] [string] $Uri, [double] $TimeoutSec = 5)
    $end = [datetime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        try { return Invoke-WebRequest -Uri $Uri -TimeoutSec 2 -UseBasicParsing }
        catch { if ([datetime]::UtcNow -ge $end) { throw } }
        Start-Sleep -Milliseconds 200
    }
}

function ConvertTo-Text {
    # Response content as text, whether the cmdlet gave a string or bytes.
    param($Content)
    if ($Content -is [byte[]]) { [System.Text.Encoding]::UTF8.GetString($Content) } else { [string]$Content }
}

Export-ModuleMember -Function *
