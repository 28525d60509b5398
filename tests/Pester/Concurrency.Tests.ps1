#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Concurrency (issue 4, item 7): many New-Sandbox / Invoke-SandboxCommand / Stop-Sandbox runs at once, in one process
# (ForEach-Object -Parallel) and in several processes, with no lost or crossed output, unique names, nothing left
# behind, and host ports that never collide.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'conc'

    $script:LineCount = 300

    # One run: create, run a command that prints a token and LineCount lines tagged with it, stop. Text, so that
    # parallel runspaces and child processes run exactly the same thing.
    $script:RunText = @'
param([string] $Token, [int] $Lines, [string] $ProjectId, [string] $Folder, [switch] $Port)
$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $Folder   # -ProjectId makes ./projects/<id> here
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$result = [ordered]@{ Token = $Token; Name = $null; Id = $null; HostPort = $null; Output = @(); StdErr = @(); Errors = @(); Removed = $false; Seconds = 0; Pid = $PID }
try {
    $new = @{ Timeout = 120; ProjectId = $ProjectId }
    if ($Port) { $new.Port = 8080 }
    $sb = New-Sandbox @new
    $result.Name = $sb.Name
    $result.Id = $sb.Id
    if ($Port) { $result.HostPort = $sb.Ports[0].HostPort }
    # stderr too: merged in (2>&1, as for a native command) and told apart by type.
    $all = @(Invoke-SandboxCommand -Sandbox $sb -Command "echo $Token; i=1; while [ `$i -le $Lines ]; do echo $Token-`$i; i=`$((i+1)); done; echo $Token-err >&2" 2>&1)
    $result.Output = @($all | Where-Object { $_ -is [string] })
    $result.StdErr = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" })
    Stop-Sandbox -Sandbox $sb
    $result.Removed = $true
}
catch { $result.Errors += "$($_.FullyQualifiedErrorId): $_" }
$result.Seconds = $clock.Elapsed.TotalSeconds
[pscustomobject]$result
'@

    function Assert-Run {
        # Each run got exactly its own token and line count, in order.
        param([Parameter(Mandatory)] $Run, [int] $Lines = $script:LineCount)
        $Run.Errors | Should -BeNullOrEmpty -Because "run $($Run.Token) must not fail"
        $expected = @($Run.Token) + @(1..$Lines | ForEach-Object { "$($Run.Token)-$_" })
        $Run.Output.Count | Should -Be ($Lines + 1) -Because "run $($Run.Token) gets every line of its own command"
        # One comparison of the whole text: every line its own, none missing, none foreign, in order.
        [string]::Join("`n", [string[]]$Run.Output) | Should -BeExactly ([string]::Join("`n", [string[]]$expected)) -Because "run $($Run.Token) gets only its own lines, in order"
        @($Run.StdErr) | Should -Be @("$($Run.Token)-err") -Because "run $($Run.Token) gets only its own stderr"
    }

    function Start-DirectChildPwsh {
        # Start-ChildPwsh without the `dotnet tool run` shim when this process is the real pwsh (dotnet pwsh.dll):
        # one .NET start per child instead of two, which matters with several children on a busy machine.
        param([Parameter(Mandatory)] [string] $Script, [Parameter(Mandatory)] [string] $WorkFolder)
        $dll = [Environment]::GetCommandLineArgs()[0]
        if ([Environment]::ProcessPath -notmatch '[\\/]dotnet(\.exe)?$' -or $dll -notlike '*pwsh.dll') { return Start-ChildPwsh -Script $Script -WorkFolder $WorkFolder }
        $scriptFile = Join-Path $WorkFolder ('child-{0}.ps1' -f [Guid]::NewGuid().ToString('n').Substring(0, 6))
        Set-Content -LiteralPath $scriptFile -Value $Script
        Start-Process -FilePath ([Environment]::ProcessPath) -WorkingDirectory (Get-TestRepoRoot) -PassThru `
            -RedirectStandardOutput "$scriptFile.out" -RedirectStandardError "$scriptFile.err" `
            -ArgumentList @($dll, '-NoProfile', '-NonInteractive', '-File', $scriptFile)
    }

    function Remove-ConcurrencyLeftover {
        # Sandboxes of this file's projects, whichever process made them.
        $records = docker ps -a --filter 'label=io.sandbox.managed=true' --format '{{.ID}}|{{.Label "io.sandbox.project"}}'
        $ids = foreach ($line in $records) {
            $id, $project = $line -split '\|', 2
            if ($project -like "$(Get-TestPrefix)*") { $id }
        }
        if ($ids) { docker rm -f @ids *> $null }
    }

}

AfterAll {
    Remove-ConcurrencyLeftover
    Complete-SandboxTest
}

Describe 'Concurrency' {

    Context '20 parallel runs in one process (ForEach-Object -Parallel -ThrottleLimit 20)' {
        BeforeAll {
            $prefix = Get-TestPrefix
            $runText = $script:RunText
            $lines = $script:LineCount
            $folder = "$TestDrive"
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $script:Runs = @(1..20 | ForEach-Object -ThrottleLimit 20 -Parallel {
                    Import-Module $env:SANDBOX_MODULE_PATH
                    $token = 'tok{0:d2}x{1}' -f $_, [Guid]::NewGuid().ToString('n').Substring(0, 8)
                    & ([scriptblock]::Create($using:runText)) -Token $token -Lines $using:lines -ProjectId "$($using:prefix)-par$_" -Folder $using:folder -Port
                })
            $clock.Stop()
            $script:ParallelWall = $clock.Elapsed.TotalSeconds
            Write-Host ("    20 parallel New/Invoke/Stop runs: wall {0:n1} s; per run {1:n1}..{2:n1} s" -f $ParallelWall,
                ($Runs.Seconds | Measure-Object -Minimum).Minimum, ($Runs.Seconds | Measure-Object -Maximum).Maximum)
        }

        It 'all 20 runs finished, without errors' {
            $Runs | Should -HaveCount 20
            $Runs.Errors | Should -BeNullOrEmpty
        }

        It 'no output was lost or crossed: each run got exactly its own token and <LineCount> lines' -TestCases @(@{ LineCount = 300 }) {
            foreach ($run in $Runs) { Assert-Run $run -Lines $LineCount }
        }

        It 'the module gave 20 unique names and ids' {
            @($Runs.Name | Sort-Object -Unique) | Should -HaveCount 20
            @($Runs.Id | Sort-Object -Unique) | Should -HaveCount 20
        }

        It 'each sandbox got a host port for container port 8080' {
            $Runs.HostPort | ForEach-Object { $_ | Should -BeGreaterThan 0 }
        }

        It 'every sandbox is gone afterwards' {
            foreach ($run in $Runs) { Test-ContainerExists $run.Id | Should -BeFalse -Because "$($run.Name) was stopped" }
            @(docker volume ls -q --filter 'label=io.sandbox.deadline-volume=true' | Where-Object { $n = $_; $Runs.Name | Where-Object { $n -like "$_-deadline-*" } }) |
                Should -BeNullOrEmpty -Because 'their deadline volumes go with them'
        }
    }

    Context 'several processes at once (4 child pwsh x 5 sandboxes)' {
        BeforeAll {
            $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'children') -Force
            $runFile = Join-Path $work 'run.ps1'
            Set-Content -LiteralPath $runFile -Value $script:RunText
            $prefix = Get-TestPrefix
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $script:Children = foreach ($c in 1..4) {
                $out = Join-Path $work "results-$c.json"
                $childScript = @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
Set-Location -LiteralPath '$work'
`$runs = @(1..5 | ForEach-Object {
    `$token = 'p$($c)r{0}x{1}' -f `$_, [Guid]::NewGuid().ToString('n').Substring(0, 8)
    & '$runFile' -Token `$token -Lines $($script:LineCount) -ProjectId "$prefix-proc$c-`$_" -Folder '$work'
})
`$runs | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath '$out'
"@
                [pscustomobject]@{ Process = Start-DirectChildPwsh -Script $childScript -WorkFolder $work; Results = $out }
            }
            $finished = Wait-Until { @($Children | Where-Object { -not $_.Process.HasExited }).Count -eq 0 } -TimeoutSec 75 -IntervalMs 250
            $clock.Stop()
            $script:ProcessWall = $clock.Elapsed.TotalSeconds
            $script:ChildLog = Get-ChildOutput $work | Out-String
            if (-not $finished) { $Children | ForEach-Object { if (-not $_.Process.HasExited) { Stop-Process -Id $_.Process.Id -ErrorAction SilentlyContinue } } }
            $script:ProcessRuns = @($Children | ForEach-Object {
                    if (Test-Path -LiteralPath $_.Results) { Get-Content -LiteralPath $_.Results -Raw | ConvertFrom-Json }
                })
            Write-Host ("    4 processes x 5 runs: wall {0:n1} s (process start included); per run {1:n1}..{2:n1} s" -f $ProcessWall,
                ($ProcessRuns.Seconds | Measure-Object -Minimum).Minimum, ($ProcessRuns.Seconds | Measure-Object -Maximum).Maximum)
        }

        It 'all 4 processes finished and reported 5 runs each' {
            $ProcessRuns | Should -HaveCount 20 -Because $ChildLog
            @($ProcessRuns.Pid | Sort-Object -Unique) | Should -HaveCount 4
        }

        It 'no output was lost or crossed between processes' {
            foreach ($run in $ProcessRuns) { Assert-Run $run }
        }

        It 'names and ids are unique across processes, and every sandbox is gone' {
            @($ProcessRuns.Name | Sort-Object -Unique) | Should -HaveCount 20
            @($ProcessRuns.Id | Sort-Object -Unique) | Should -HaveCount 20
            foreach ($run in $ProcessRuns) { Test-ContainerExists $run.Id | Should -BeFalse }
        }
    }

    Context 'host ports' {
        It '20 sandboxes made at once, each with -Port 8080, get 20 distinct host ports' {
            $prefix = Get-TestPrefix
            $made = @(1..20 | ForEach-Object -ThrottleLimit 20 -Parallel {
                    Import-Module $env:SANDBOX_MODULE_PATH
                    $sb = New-Sandbox -Name ('{0}-port{1:d2}' -f $using:prefix, $_) -Timeout 120 -Port 8080 -ErrorAction Continue
                    $sb
                })
            try {
                $made | Should -HaveCount 20
                $ports = @($made | ForEach-Object { $_.Ports[0].HostPort })
                $ports | ForEach-Object { $_ | Should -BeGreaterThan 0 }
                @($ports | Sort-Object -Unique) | Should -HaveCount 20
                # All alive at the same time, each on the port its object shows.
                foreach ($sb in $made) {
                    $published = docker port $sb.Id 8080/tcp
                    $published | Should -Contain "127.0.0.1:$($sb.Ports[0].HostPort)"
                }
            }
            finally {
                $made | ForEach-Object -ThrottleLimit 10 -Parallel { Import-Module $env:SANDBOX_MODULE_PATH; Stop-Sandbox -Sandbox $_ }
            }
            foreach ($sb in $made) { Test-ContainerExists $sb.Id | Should -BeFalse }
        }

        It 'a second sandbox asking for the same host port fails with PortAlreadyAllocated and leaves no container' {
            $port = Get-FreeTcpPort
            $first = New-Sandbox -Name (New-TestName 'portA') -Port "8080:$port"
            try {
                $first.Ports[0].HostPort | Should -Be $port
                $name = New-TestName 'portB'
                $second = New-Sandbox -Name $name -Port "8080:$port" -ErrorVariable err -ErrorAction SilentlyContinue
                $second | Should -BeNullOrEmpty
                $err | Should -HaveCount 1
                $err[0].FullyQualifiedErrorId | Should -BeLike 'PortAlreadyAllocated,*'
                $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
                "$($err[0].Exception.Message)" | Should -Match "$port"
                Test-ContainerExists $name | Should -BeFalse
                @(docker volume ls -q | Where-Object { $_ -like "$name-deadline-*" }) | Should -BeNullOrEmpty
            }
            finally { Stop-Sandbox -Sandbox $first }
        }

        It 'two sandboxes racing for the same host port: exactly one wins, the other leaves nothing behind' {
            $port = Get-FreeTcpPort
            $prefix = Get-TestPrefix
            $results = @(1..2 | ForEach-Object -ThrottleLimit 2 -Parallel {
                    Import-Module $env:SANDBOX_MODULE_PATH
                    $name = '{0}-race{1}-{2}' -f $using:prefix, $_, [Guid]::NewGuid().ToString('n').Substring(0, 4)
                    $sb = New-Sandbox -Name $name -Timeout 120 -Port "8080:$($using:port)" -ErrorVariable err -ErrorAction SilentlyContinue
                    [pscustomobject]@{ Name = $name; Sandbox = $sb; Error = @($err | ForEach-Object FullyQualifiedErrorId) }
                })
            try {
                @($results | Where-Object Sandbox) | Should -HaveCount 1
                $loser = $results | Where-Object { -not $_.Sandbox }
                $loser.Error | Should -BeLike 'PortAlreadyAllocated,*'
                Test-ContainerExists $loser.Name | Should -BeFalse
            }
            finally { $results | Where-Object Sandbox | ForEach-Object { Stop-Sandbox -Sandbox $_.Sandbox } }
        }
    }
}
