#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Help can't drift: every exported cmdlet has real help (synopsis, description, examples) whose parameters match the
# cmdlet's, about_Sandbox is there, and every example in docs/en-US runs as written, in a pwsh of its own, and cleans
# up after itself. Examples that name remote hosts (*.example.com) run against the test engines instead: ssh:// hosts
# become the test sshd, tcp:// hosts the TLS listener; the ~/.ssh keys and ~/.docker/<name> certificate folders they
# name exist in the example's home as copies of the test material; Get-Credential answers with the test user. The
# swarm of the docs (tcp://swarm-manager.example.com:2376, nodes swarm-node1..3) is the test swarm
# (SANDBOX_TEST_SWARM_*), and such examples must leave no service behind on it either.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Import-Module (Get-SandboxModulePath) -Force
    $cmdlets = @(Get-Command -Module Sandbox -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })

    # Examples that cannot run on this machine, by "<page>: <example title>", with the reason. Keep this list tiny.
    $cannotRunHere = @{
        'Enter-Sandbox.md: Example 1: A shell in a new sandbox' = 'needs an interactive terminal; Enter-Sandbox.Tests.ps1 types into one (tmux)'
        'Enter-Sandbox.md: Example 2: Another shell, user and folder' = 'needs an interactive terminal; Enter-Sandbox.Tests.ps1 types into one (tmux)'
    }

    # Examples with -Runtime runsc need gVisor registered in the local engine (build.sh does it); elsewhere they are
    # skipped, with the reason, except under CI.
    $noRunsc = $env:CI -ne 'true' -and "$(docker -H unix:///var/run/docker.sock info --format '{{json .Runtimes}}' 2>$null)" -notmatch '"runsc"'

    # Each ```powershell block under "## EXAMPLES" of a cmdlet page, and each indented block under "# EXAMPLES" of
    # an about page.
    $examples = foreach ($page in Get-ChildItem -LiteralPath (Join-Path (Get-TestRepoRoot) 'docs/en-US') -Filter *.md) {
        $about = $page.BaseName -like 'about_*'
        $found = [System.Collections.Generic.List[object]]::new()
        $inExamples = $false; $title = $null; $block = $null; $inFence = $false
        foreach ($line in (Get-Content -LiteralPath $page.FullName) + '# END') {
            if ($inFence) {
                if ($line -match '^\s*```\s*$') { $found.Add(@{ Title = $title; Code = $block -join "`n" }); $inFence = $false }
                else { $block += , $line }
                continue
            }
            if ($about -and $null -ne $block -and $line -notmatch '^    ' -and $line.Trim()) {
                $found.Add(@{ Title = $title; Code = ($block -join "`n").Trim() }); $block = $null
            }
            if ($line -match '^(#{1,2})\s+(\S.*?)\s*$') {
                $inExamples = $Matches[2] -eq 'EXAMPLES' -and $Matches[1].Length -eq $(if ($about) { 1 } else { 2 })
                continue
            }
            if (-not $inExamples) { continue }
            if ($line -match '^###\s+(.+?)\s*$') { $title = $Matches[1]; continue }
            if (-not $about -and $line -match '^\s*```(powershell|ps1|pwsh)\s*$') { $inFence = $true; $block = @(); continue }
            if ($about -and ($line -match '^    ' -or ($null -ne $block -and -not $line.Trim()))) {
                if ($null -eq $block) { $block = @() }
                $block += , ($line -replace '^    ', '')
            }
        }
        $n = 0
        foreach ($f in $found) {
            $n++
            $name = if ($about -or -not $f.Title) { "Example $n" } else { $f.Title }
            $skip = $cannotRunHere["$($page.Name): $name"]
            if (-not $skip -and $noRunsc -and $f.Code -match '-Runtime\s+runsc') { $skip = 'the local engine has no runtime runsc (gVisor); build.sh registers it' }
            @{ Page = $page.Name; Title = $name; Code = $f.Code; Skip = $skip }
        }
    }
    $index = 0
    foreach ($example in $examples) { $example.Index = $index++; $example.AllExamples = $examples }
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'help'
    $common = [System.Management.Automation.Cmdlet]::CommonParameters

    # "True (ByPropertyName, ByValue)" and parameter metadata, both as the same sorted text.
    function Format-PipelineInput($Text) {
        if ($Text -notmatch '^\s*true') { return 'False' }
        $kinds = @([regex]::Matches($Text, 'By\w+') | ForEach-Object Value | Sort-Object -Unique)
        'True ({0})' -f ($kinds -join ', ')
    }
    function Get-PipelineInput([System.Management.Automation.ParameterSetMetadata] $Set) {
        $kinds = @(if ($Set.ValueFromPipeline) { 'ByValue' }; if ($Set.ValueFromPipelineByPropertyName) { 'ByPropertyName' })
        if ($kinds) { 'True ({0})' -f (($kinds | Sort-Object) -join ', ') } else { 'False' }
    }
    function Format-Position($Position) {
        if ($Position -is [int]) { if ($Position -lt 0) { 'named' } else { "$Position" } } else { "$Position".ToLowerInvariant() }
    }

    # Examples run three at a time, each in a pwsh of its own (a pwsh's start is most of an example's time): the test
    # of example k starts k, k+1 and k+2 unless they run already, then waits for k. Their folders live outside
    # $TestDrive, which Pester clears at the end of each Describe.
    $script:ExamplesRoot = Join-Path ([IO.Path]::GetTempPath()) ('sandbox-help-examples-' + [Guid]::NewGuid().ToString('n').Substring(0, 8))
    $script:ExampleRuns = @{}
    function Start-ExampleRun([hashtable] $Example) {
        $remote = Get-TestRemoteSetting
        $root = Join-Path $script:ExamplesRoot ('example-' + [Guid]::NewGuid().ToString('n').Substring(0, 8))
        $work = New-Item -ItemType Directory -Path (Join-Path $root 'work') -Force      # current location
        $temp = New-Item -ItemType Directory -Path (Join-Path $root 'tmp') -Force       # TMPDIR: GetTempPath()
        $home_ = Join-Path $root 'home'                                                  # HOME: ~/.ssh, ~/.docker

        # Remote hosts of the docs become the test endpoints.
        $script = $Example.Code
        # The swarm of the docs (manager tcp://swarm-manager.example.com:2376, nodes swarm-node1..3) is the test swarm,
        # reached with its TLS material, as the user's environment would have it.
        $usesSwarm = $script -match 'swarm-manager\.example\.com'
        if ($usesSwarm) {
            if (-not $env:SANDBOX_TEST_SWARM_MANAGER -or -not $env:SANDBOX_TEST_SWARM_CERT_PATH) {
                throw "$($Example.Page) $($Example.Title) runs on the test swarm, but SANDBOX_TEST_SWARM_MANAGER and SANDBOX_TEST_SWARM_CERT_PATH are not set: build.ps1 TestSwarm sets them."
            }
            $script = [regex]::Replace($script, 'tcp://swarm-manager\.example\.com(?::\d+)?', $env:SANDBOX_TEST_SWARM_MANAGER)
            $testNodes = @(if ($env:SANDBOX_TEST_SWARM_NODES) { $env:SANDBOX_TEST_SWARM_NODES -split ',' } else { 'sandbox-node1', 'sandbox-node2', 'sandbox-node3' })
            $script = [regex]::Replace($script, '\bswarm-node(?<n>[1-3])\b', { param($m) $testNodes[[int]$m.Groups['n'].Value - 1].Trim() })
        }
        $script = [regex]::Replace($script, 'ssh://(?:[\w.-]+@)?[\w.-]+\.example\.com(?::\d+)?', $remote.SshHost)
        $script = [regex]::Replace($script, 'tcp://[\w.-]+\.example\.com(?::\d+)?', $remote.TlsHost)

        # The home the example expects: the test ssh keys and known_hosts, its named key files and certificate folders.
        $null = New-TestSshHome -Path $home_
        foreach ($m in [regex]::Matches($script, '\.ssh[/\\](?<key>[\w.-]+)')) {
            $key = Join-Path $home_ ".ssh/$($m.Groups['key'].Value)"
            if (-not (Test-Path -LiteralPath $key)) { Copy-Item -LiteralPath (Join-Path $home_ '.ssh/id_ed25519') -Destination $key; if (-not $IsWindows) { chmod 0600 $key } }
        }
        foreach ($m in [regex]::Matches($script, '\.docker[/\\](?<name>[\w.-]+)')) {
            $folder = Join-Path $home_ ".docker/$($m.Groups['name'].Value)"
            $certificates = if ($usesSwarm) { $env:SANDBOX_TEST_SWARM_CERT_PATH } else { Get-TestTlsCertPath }
            if (-not (Test-Path -LiteralPath $folder)) { Copy-Item -LiteralPath $certificates -Destination $folder -Recurse }
        }

        $exampleFile = Join-Path $root 'example.ps1'
        Set-Content -LiteralPath $exampleFile -Value $script
        $resultFile = Join-Path $root 'result.json'
        $runner = @'
param($ExampleFile, $ResultFile, $Manifest, $PasswordFile, $SshUser)
$ProgressPreference = 'SilentlyContinue'
$__sbxResult = [ordered]@{ Pid = $PID; Errors = [System.Collections.Generic.List[string]]::new(); Output = '' }
$__sbxItems = [System.Collections.Generic.List[object]]::new()
try {
    Import-Module $Manifest -ErrorAction Stop
    # Stands in for the user typing a password at the prompt.
    function Get-Credential {
        param([string] $UserName, [string] $Message, [string] $Title)
        [pscredential]::new($SshUser, (ConvertTo-SecureString (Get-Content -Raw -LiteralPath $PasswordFile).Trim() -AsPlainText -Force))
    }
    $__sbxExample = [scriptblock]::Create((Get-Content -Raw -LiteralPath $ExampleFile))
    & $__sbxExample *>&1 | ForEach-Object { $__sbxItems.Add($_) }
} catch {
    $__sbxResult.Errors.Add('terminating: ' + ($_ | Out-String).Trim())
}
# *>&1 brings a command's stderr lines along as NativeCommandError records: what the command said, not errors.
$__sbxStdErr = { $args[0] -is [System.Management.Automation.ErrorRecord] -and $args[0].FullyQualifiedErrorId -in 'NativeCommandError', 'NativeCommandErrorMessage' }
foreach ($item in $__sbxItems) { if ($item -is [System.Management.Automation.ErrorRecord] -and -not (& $__sbxStdErr $item)) { $__sbxResult.Errors.Add(($item | Out-String).Trim()) } }
$__sbxResult.Output = ($__sbxItems | ForEach-Object {
        if (& $__sbxStdErr $_) { "STDERR: $_" } elseif ($_ -is [System.Management.Automation.ErrorRecord]) { "ERROR: $_" } elseif ($_ -is [System.Management.Automation.WarningRecord]) { "WARNING: $_" } else { $_ }
    } | Out-String -Width 160).TrimEnd()
$__sbxResult | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath $ResultFile
'@
        $runnerFile = Join-Path $root 'runner.ps1'
        Set-Content -LiteralPath $runnerFile -Value $runner

        # The same pwsh as this one, in a process of its own with the example's environment.
        $start = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $runnerFile, $exampleFile, $resultFile, (Get-SandboxModulePath), $remote.SshPasswordFile, $remote.SshUser) {
            $start.ArgumentList.Add($a)
        }
        $start.WorkingDirectory = $work.FullName
        $start.RedirectStandardOutput = $start.RedirectStandardError = $true
        $start.Environment['HOME'] = $home_
        $start.Environment['TMPDIR'] = $temp.FullName
        $start.Environment['SANDBOX_IMAGE'] = Get-TestImage
        foreach ($name in 'DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'SANDBOX_CLUSTER', 'SANDBOX_CLUSTER_NODES') { $null = $start.Environment.Remove($name) }
        if ($usesSwarm) { $start.Environment['DOCKER_TLS_VERIFY'] = '1'; $start.Environment['DOCKER_CERT_PATH'] = $env:SANDBOX_TEST_SWARM_CERT_PATH }
        $child = [System.Diagnostics.Process]::Start($start)
        [pscustomobject]@{
            Root = $root; Work = $work; Temp = $temp; ExampleFile = $exampleFile; ResultFile = $resultFile; UsesSwarm = $usesSwarm
            Process = $child; Stdout = $child.StandardOutput.ReadToEndAsync(); Stderr = $child.StandardError.ReadToEndAsync()
        }
    }

    # The services (cluster sandboxes) that an example's pwsh made on the test swarm: the module labels them as it
    # labels containers.
    function Get-SwarmLeftover([string] $Owner) {
        $certs = $env:SANDBOX_TEST_SWARM_CERT_PATH
        @(docker -H $env:SANDBOX_TEST_SWARM_MANAGER --tlsverify --tlscacert (Join-Path $certs 'ca.pem') --tlscert (Join-Path $certs 'cert.pem') --tlskey (Join-Path $certs 'key.pem') `
                service ls -q --filter 'label=io.sandbox.managed=true' --filter "label=io.sandbox.owner=$Owner")
    }

    function Get-ExampleRun([hashtable[]] $All, [int] $Index) {
        foreach ($k in $Index..([Math]::Min($Index + 2, $All.Count - 1))) {
            if (-not $script:ExampleRuns.ContainsKey($k) -and -not $All[$k].Skip) { $script:ExampleRuns[$k] = Start-ExampleRun $All[$k] }
        }
        $script:ExampleRuns[$Index]
    }
}

AfterAll {
    foreach ($run in $script:ExampleRuns.Values) { if (-not $run.Process.HasExited) { $run.Process.Kill($true) } }
    if ($script:ExamplesRoot) { Remove-Item -LiteralPath $script:ExamplesRoot -Recurse -Force -ErrorAction SilentlyContinue }
    Complete-SandboxTest
}

Describe 'Help for <Name>' -ForEach $cmdlets {

    BeforeAll {
        $help = Get-Help -Name $Name -Full
        $command = Get-Command -Name $Name -Module Sandbox
    }

    It 'has a synopsis of its own, not the generated syntax' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name *"
        $help.Synopsis.Trim() | Should -Not -BeLike '*`[<CommonParameters>`]*'
    }

    It 'has a description' {
        ($help.description | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and an explanation' {
        $all = @($help.examples.example)
        $all.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $all) {
            $example.code | Should -Not -BeNullOrEmpty -Because "$($example.title) shows code"
            ($example.remarks | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty -Because "$($example.title) says what it does"
        }
    }

    It 'documents exactly the parameters the cmdlet has' {
        $documented = @($help.parameters.parameter | ForEach-Object name)
        $actual = @($command.Parameters.Keys | Where-Object { $_ -notin $common })
        $actual | Where-Object { $_ -notin $documented } | Should -BeNullOrEmpty -Because 'every parameter is documented'
        $documented | Where-Object { $_ -notin $actual } | Should -BeNullOrEmpty -Because 'only parameters the cmdlet has are documented'
    }

    It 'documents each parameter''s type, Mandatory, Position and pipeline input as the cmdlet declares them' {
        foreach ($doc in @($help.parameters.parameter)) {
            $parameter = $command.Parameters[$doc.name]
            if (-not $parameter) { continue }   # reported by the test above
            $what = "-$($doc.name) of $Name"
            $type = $parameter.ParameterType
            $doc.type.name | Should -BeIn @($type.Name, $type.FullName) -Because "$what is a $($type.FullName)"

            # A parameter in several parameter sets is documented once: it must match at least one of its sets,
            # and where all its sets agree, exactly that.
            $sets = @($parameter.ParameterSets.Values)
            $mandatory = @($sets | ForEach-Object { "$($_.IsMandatory)".ToLowerInvariant() } | Sort-Object -Unique)
            $positions = @($sets | ForEach-Object { Format-Position $_.Position } | Sort-Object -Unique)
            $pipeline = @($sets | ForEach-Object { Get-PipelineInput $_ } | Sort-Object -Unique)
            "$($doc.required)".ToLowerInvariant() | Should -BeIn $mandatory -Because "$what is Mandatory=$($mandatory -join '/')"
            Format-Position $doc.position | Should -BeIn $positions -Because "$what has Position $($positions -join '/')"
            Format-PipelineInput $doc.pipelineInput | Should -BeIn $pipeline -Because "$what takes pipeline input $($pipeline -join '/')"
        }
    }
}

Describe 'Help: about_Sandbox' {

    It 'is found by Get-Help' {
        $text = Get-Help -Name about_Sandbox -ErrorAction Stop | Out-String
        $text | Should -Match 'about_Sandbox'
        $text | Should -Match 'SHORT DESCRIPTION'
        $text.Length | Should -BeGreaterThan 2000
    }

    It 'is listed by Get-Help about_*' {
        (Get-Help -Name 'about_*' -Category HelpFile).Name | Should -Contain 'about_Sandbox'
    }
}

Describe 'Help: <Page> <Title> runs as written' -ForEach $examples {

    BeforeAll {
        if (-not $Skip) {
            $run = Get-ExampleRun $AllExamples $Index
            $root = $run.Root; $work = $run.Work; $temp = $run.Temp; $exampleFile = $run.ExampleFile; $resultFile = $run.ResultFile
        }
    }

    AfterAll {
        # Whatever the example left behind goes, so that one failure does not leak into other tests.
        if ($resultFile -and (Test-Path -LiteralPath $resultFile)) {
            $childPid = (Get-Content -Raw -LiteralPath $resultFile | ConvertFrom-Json).Pid
            $left = docker ps -aq --filter 'label=io.sandbox.managed=true' --filter "label=io.sandbox.owner=$([Environment]::MachineName):$childPid"
            if ($left) { docker rm -f @left *> $null }
            if ($run.UsesSwarm) {
                $certs = $env:SANDBOX_TEST_SWARM_CERT_PATH
                $services = Get-SwarmLeftover "$([Environment]::MachineName):$childPid"
                if ($services) {
                    docker -H $env:SANDBOX_TEST_SWARM_MANAGER --tlsverify --tlscacert (Join-Path $certs 'ca.pem') --tlscert (Join-Path $certs 'cert.pem') --tlskey (Join-Path $certs 'key.pem') `
                        service rm @services *> $null
                }
            }
        }
        # Images an example built with -Build from its own folders.
        foreach ($id in @(docker image ls -q --no-trunc --filter 'label=io.sandbox.build=true' | Sort-Object -Unique)) {
            $source = docker image inspect --format '{{index .Config.Labels "io.sandbox.build.source"}}' $id 2>$null
            if ($source -and $root -and $source.StartsWith($root)) { docker image rm -f $id *> $null }
        }
    }

    It 'runs without errors and leaves nothing behind' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }

        $child = $run.Process
        if (-not $child.WaitForExit(300000)) { $child.Kill($true); throw "The example did not finish within 5 minutes: $($run.Stdout.Result)$($run.Stderr.Result)" }
        $child.WaitForExit()
        $stdout = $run.Stdout; $stderr = $run.Stderr
        Test-Path -LiteralPath $resultFile | Should -BeTrue -Because "the example's pwsh writes its result: $($stdout.Result)$($stderr.Result)"
        $result = Get-Content -Raw -LiteralPath $resultFile | ConvertFrom-Json
        $transcript = "`n--- example ---`n$(Get-Content -Raw -LiteralPath $exampleFile)--- output ---`n$($result.Output)"

        @($result.Errors) | Should -BeNullOrEmpty -Because "the example runs without errors:$transcript"

        $owner = "$([Environment]::MachineName):$($result.Pid)"
        $leftOver = { @(docker ps -aq --filter 'label=io.sandbox.managed=true' --filter "label=io.sandbox.owner=$owner") }
        Wait-Until -TimeoutSec 10 { (& $leftOver).Count -eq 0 } | Should -BeTrue -Because "the example stops the sandboxes it makes:$transcript"
        $snapshots = @(docker image ls -q --filter 'label=io.sandbox.snapshot=true' --filter "label=io.sandbox.snapshot-owner=$owner")
        $snapshots | Should -BeNullOrEmpty -Because "the example removes the snapshots it saves:$transcript"
        if ($run.UsesSwarm) { Get-SwarmLeftover $owner | Should -BeNullOrEmpty -Because "the example stops the sandboxes it makes on the swarm:$transcript" }
        $files = @(Get-ChildItem -LiteralPath $work.FullName, $temp.FullName -Recurse -File -Force |
                Where-Object Name -NotMatch '^(dotnet-diagnostic-|clr-debug-pipe-|CoreFxPipe_)')
        $files.FullName | Should -BeNullOrEmpty -Because "the example removes the files it makes:$transcript"
    }
}
