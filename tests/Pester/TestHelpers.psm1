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
    if ($ids.Count) { docker rm -f -v @ids *> $null }
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

# --- Remote engines: ssh:// and tcp:// + TLS ------------------------------------------------------------------
# build.ps1 Test exports SANDBOX_TEST_SSH_* and SANDBOX_TEST_TLS_* (made by tests/setup/New-TestTls.sh and
# tests/setup/Start-TestSshd.sh); without them the defaults below point at the same places. All three endpoints
# reach the SAME local dockerd, so the plain `docker` helpers above (Get-TestContainer, Remove-TestContainer, ...)
# see containers made through any of them. The module keeps one SSH connection per endpoint per process: a
# negative test (changed host key, bad key) after a good connection to the same endpoint may get the pooled,
# already trusted connection; use another endpoint spelling (ssh://root@localhost:2222 also works), another user,
# or a child process (Start-ChildPwsh) for such tests.

function Get-TestRemoteSetting {
    # Where the remote-engine test set-up is: endpoints, the ssh client home, the password user, the TLS folders.
    $state = if ($env:SANDBOX_TEST_STATE) { $env:SANDBOX_TEST_STATE } else { '/var/lib/sandbox-test' }
    $sshHome = if ($env:SANDBOX_TEST_SSH_HOME) { $env:SANDBOX_TEST_SSH_HOME } else { Join-Path $state 'ssh-home' }
    $user = if ($env:SANDBOX_TEST_SSH_USER) { $env:SANDBOX_TEST_SSH_USER } else { 'sandboxtest' }
    [pscustomobject]@{
        SshHost          = if ($env:SANDBOX_TEST_SSH_HOST) { $env:SANDBOX_TEST_SSH_HOST } else { 'ssh://root@127.0.0.1:2222' }
        SshUserHost      = "ssh://$user@127.0.0.1:2222"          # for password (-Credential) logins
        SshHome          = $sshHome                               # .ssh/ id_ed25519 id_ecdsa id_rsa known_hosts{,.plain,.wrong} bad_ed25519
        SshBin           = Join-Path $sshHome 'bin'               # bin/ssh: the system ssh reading $HOME/.ssh (for the docker CLI)
        SshUser          = $user
        SshPasswordFile  = if ($env:SANDBOX_TEST_SSH_USER_PASSWORD_FILE) { $env:SANDBOX_TEST_SSH_USER_PASSWORD_FILE } else { Join-Path $state 'sshd/password.txt' }
        TlsHost          = if ($env:SANDBOX_TEST_TLS_HOST) { $env:SANDBOX_TEST_TLS_HOST } else { 'tcp://127.0.0.1:2376' }
        TlsWrongNameHost = if ($env:SANDBOX_TEST_TLS_WRONGNAME_HOST) { $env:SANDBOX_TEST_TLS_WRONGNAME_HOST } else { 'tcp://127.0.0.2:2376' }
        TlsDir           = if ($env:SANDBOX_TEST_TLS_DIR) { $env:SANDBOX_TEST_TLS_DIR } else { Join-Path $state 'tls' }
    }
}

function Use-TestEnvironment {
    # Sets environment variables (a $null value removes one), runs the script block in the caller's scope and
    # puts every variable back as it was, whatever happens. Returns the block's output.
    param(
        [Parameter(Mandatory, Position = 0)] [System.Collections.IDictionary] $Environment,
        [Parameter(Mandatory, Position = 1)] [scriptblock] $ScriptBlock
    )
    $saved = @{}
    foreach ($name in $Environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    try {
        # [string]$null is '', which .NET on Unix keeps as a variable set to nothing (and pwsh's NO_COLOR check counts).
        foreach ($name in $Environment.Keys) {
            $value = if ($null -ne $Environment[$name]) { [string]$Environment[$name] }
            [Environment]::SetEnvironmentVariable($name, $value)
        }
        . $ScriptBlock
    } finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
}

function Get-TestSshHomeEnvironment {
    # HOME pointing at a test ssh home, and bin/ssh first in PATH so that `docker -H ssh://...` uses it too.
    param([string] $Path = (Get-TestRemoteSetting).SshHome)
    @{ HOME = $Path; PATH = '{0}{1}{2}' -f (Get-TestRemoteSetting).SshBin, [IO.Path]::PathSeparator, $env:PATH }
}

function Use-TestSshHome {
    # Runs the block with $env:HOME at the test ssh home (or one made by New-TestSshHome), then restores HOME
    # and PATH:  Use-TestSshHome { New-Sandbox -DockerHost $env:SANDBOX_TEST_SSH_HOST }
    param(
        [Parameter(Mandatory, Position = 0)] [scriptblock] $ScriptBlock,
        [string] $Path = (Get-TestRemoteSetting).SshHome
    )
    Use-TestEnvironment (Get-TestSshHomeEnvironment -Path $Path) $ScriptBlock
}

function New-TestSshHome {
    # A fresh client home from the set-up's material, for the negative and variant ssh:// tests; returns its path.
    #   -KnownHosts Hashed (default) | Plain | Wrong (other keys for the host: changed-key case) | None (unknown host)
    #               OneKeyHashed | OneKeyPlain | OneKeyWrong: the same for the one-key servers (127.0.0.1:2223 RSA,
    #               :2224 ECDSA, :2225 Ed25519), whose keys the other files do not list
    #   -Key        which keys become ~/.ssh/id_*: ed25519, ecdsa, rsa; 'bad' puts the unauthorized key in as id_ed25519
    # bad_ed25519 is always there too, for tests that name a key file.
    param(
        [string] $Path = (Join-Path ([IO.Path]::GetTempPath()) ('sbt-sshhome-' + [Guid]::NewGuid().ToString('n').Substring(0, 8))),
        [ValidateSet('Hashed', 'Plain', 'Wrong', 'None', 'OneKeyHashed', 'OneKeyPlain', 'OneKeyWrong')] [string] $KnownHosts = 'Hashed',
        [ValidateSet('ed25519', 'ecdsa', 'rsa', 'bad')] [string[]] $Key = @('ed25519', 'ecdsa', 'rsa')
    )
    if ('bad' -in $Key -and 'ed25519' -in $Key) { throw "New-TestSshHome: -Key 'bad' takes the place of ed25519; give one of them." }
    $source = Join-Path (Get-TestRemoteSetting).SshHome '.ssh'
    if (-not (Test-Path -LiteralPath (Join-Path $source 'id_ed25519'))) {
        throw "No ssh test material in $source; run tests/setup/Start-TestSshd.sh (./build.sh Test does)."
    }
    $dot = Join-Path $Path '.ssh'
    $null = New-Item -ItemType Directory -Force -Path $dot
    $files = @{ 'bad_ed25519' = 'bad_ed25519' }
    foreach ($k in $Key) {
        if ($k -eq 'bad') { $files['id_ed25519'] = 'bad_ed25519' } else { $files["id_$k"] = "id_$k" }
    }
    switch ($KnownHosts) {
        'Hashed' { $files['known_hosts'] = 'known_hosts' }
        'Plain' { $files['known_hosts'] = 'known_hosts.plain' }
        'Wrong' { $files['known_hosts'] = 'known_hosts.wrong' }
        'OneKeyHashed' { $files['known_hosts'] = 'known_hosts.one-key' }
        'OneKeyPlain' { $files['known_hosts'] = 'known_hosts.one-key.plain' }
        'OneKeyWrong' { $files['known_hosts'] = 'known_hosts.one-key.wrong' }
    }
    foreach ($target in $files.Keys) {
        $from = Join-Path $source $files[$target]
        Copy-Item -LiteralPath $from -Destination (Join-Path $dot $target) -Force
        if ($target -notlike 'known_hosts') { Copy-Item -LiteralPath "$from.pub" -Destination (Join-Path $dot "$target.pub") -Force }
    }
    if (-not $IsWindows) {
        chmod 0700 $dot
        Get-ChildItem -LiteralPath $dot -Exclude '*.pub', 'known_hosts' | ForEach-Object { chmod 0600 $_.FullName }
    }
    $Path
}

function Get-TestSshCredential {
    # PSCredential of the local password user (sandboxtest, group docker) for ssh:// -Credential tests;
    # -Wrong gives a wrong password. Its endpoint: (Get-TestRemoteSetting).SshUserHost.
    param([switch] $Wrong)
    $s = Get-TestRemoteSetting
    $password = if ($Wrong) { 'wrong-' + [Guid]::NewGuid().ToString('n') }
                else { (Get-Content -Raw -LiteralPath $s.SshPasswordFile).Trim() }
    [pscredential]::new($s.SshUser, (ConvertTo-SecureString $password -AsPlainText -Force))
}

function Get-TestTlsCertPath {
    # A DOCKER_CERT_PATH folder: Client (good), WrongCa (server cert not trusted), WrongName (for
    # SANDBOX_TEST_TLS_WRONGNAME_HOST: name check fails), UntrustedClient (dockerd refuses the client cert).
    param([ValidateSet('Client', 'WrongCa', 'WrongName', 'UntrustedClient')] [string] $Kind = 'Client')
    $folder = @{ Client = 'client'; WrongCa = 'wrong-ca'; WrongName = 'wrong-name'; UntrustedClient = 'untrusted-client' }[$Kind]
    Join-Path (Get-TestRemoteSetting).TlsDir $folder
}

function Get-TestEndpoints {
    # The endpoints the end-to-end scenarios run against, as hashtables for Pester's -ForEach:
    #   Describe 'New-Sandbox on <Name>' -ForEach (Get-TestEndpoints) { It '...' { Use-TestEndpoint $_ { ... -DockerHost $DockerHost } } }
    # Keys: Name (Local, Ssh, Tls), DockerHost, IsRemote, Environment (DOCKER_HOST and the TLS variables set or
    # cleared, DOCKER_CONTEXT cleared; for Ssh also HOME and PATH as Use-TestSshHome sets them).
    # Put the Import-Module of this file in BeforeDiscovery too when -ForEach uses it.
    param([ValidateSet('Local', 'Ssh', 'Tls')] [string[]] $Name = @('Local', 'Ssh', 'Tls'))
    $s = Get-TestRemoteSetting
    foreach ($n in $Name) {
        $environment = @{ DOCKER_HOST = $null; DOCKER_TLS_VERIFY = $null; DOCKER_CERT_PATH = $null; DOCKER_CONTEXT = $null }
        switch ($n) {
            'Local' { $dockerHost = 'unix:///var/run/docker.sock' }
            'Ssh' {
                $dockerHost = $s.SshHost
                (Get-TestSshHomeEnvironment).GetEnumerator() | ForEach-Object { $environment[$_.Key] = $_.Value }
            }
            'Tls' {
                $dockerHost = $s.TlsHost
                $environment.DOCKER_TLS_VERIFY = '1'
                $environment.DOCKER_CERT_PATH = Get-TestTlsCertPath -Kind Client
            }
        }
        if ($n -ne 'Local') { $environment.DOCKER_HOST = $dockerHost }
        @{ Name = $n; DockerHost = $dockerHost; IsRemote = $n -ne 'Local'; Environment = $environment }
    }
}

function Use-TestEndpoint {
    # Runs the block with the endpoint's environment (an object from Get-TestEndpoints, or its name), then
    # restores it:  Use-TestEndpoint Tls { New-Sandbox }   # DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH set
    param(
        [Parameter(Mandatory, Position = 0)] $Endpoint,
        [Parameter(Mandatory, Position = 1)] [scriptblock] $ScriptBlock
    )
    if ($Endpoint -is [string]) { $Endpoint = Get-TestEndpoints -Name $Endpoint }
    Use-TestEnvironment $Endpoint.Environment $ScriptBlock
}

function Assert-TestEndpoint {
    # Throws a clear message when an endpoint's set-up is missing (call it in BeforeAll), instead of letting
    # every test fail on a connection error.
    param([ValidateSet('Local', 'Ssh', 'Tls')] [string[]] $Name = @('Local', 'Ssh', 'Tls'))
    $s = Get-TestRemoteSetting
    foreach ($n in $Name) {
        $problem = switch ($n) {
            'Local' { docker version --format '{{.Server.Version}}' *> $null; if ($LASTEXITCODE -ne 0) { 'no Docker engine answers on the local socket' } }
            'Ssh' {
                if (-not (Test-Path -LiteralPath (Join-Path $s.SshHome '.ssh/known_hosts'))) { "no ssh test home at $($s.SshHome)" }
                elseif (-not (Test-TcpPort 127.0.0.1 2222)) { 'the test sshd does not listen on 127.0.0.1:2222' }
            }
            'Tls' {
                if (-not (Test-Path -LiteralPath (Join-Path (Get-TestTlsCertPath) 'key.pem'))) { "no TLS test material in $($s.TlsDir)" }
                elseif (-not (Test-TcpPort 127.0.0.1 2376)) { 'dockerd does not listen on 127.0.0.1:2376 (TLS)' }
            }
        }
        if ($problem) { throw "Test endpoint ${n}: $problem. Run ./build.sh Test, which sets it up (tests/setup/)." }
    }
}

function Test-TcpPort {
    # True when something accepts TCP connections on the address and port within a second.
    param([Parameter(Mandatory)] [string] $Address, [Parameter(Mandatory)] [int] $Port)
    $client = [System.Net.Sockets.TcpClient]::new()
    try { $client.ConnectAsync($Address, $Port).Wait(1000) -and $client.Connected } catch { $false } finally { $client.Dispose() }
}

Export-ModuleMember -Function *
