#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Shell sessions (New-SandboxSession, Invoke-SandboxCommand -Session), on the local engine and over ssh://: state that
# stays, framing that hostile output cannot confuse, interrupts that leave the session usable, a shell that died,
# parallel sessions, and sessions that end with their sandbox.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $endpoints = @(Get-TestEndpoints -Name Local, Ssh)
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'session'
    Assert-TestEndpoint -Name Local, Ssh
    $modulePath = Get-SandboxModulePath

    # A PowerShell on another runspace of this process (sessions are per process), with the module, to stop mid-command.
    function Start-SessionCommand([Sandbox.SandboxSession] $Session, [string] $Command, [int] $TimeoutSec = 0) {
        $iss = [initialsessionstate]::CreateDefault2()
        $iss.ImportPSModule($modulePath)
        $ps = [powershell]::Create($iss)
        $null = $ps.AddCommand('Invoke-SandboxCommand').AddParameter('Session', $Session).AddParameter('Command', $Command)
        if ($TimeoutSec) { $null = $ps.AddParameter('TimeoutSec', $TimeoutSec) }
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{ PowerShell = $ps; Handle = $handle }
    }
}

AfterAll {
    Get-SandboxSession | Remove-SandboxSession
    Complete-SandboxTest
}

Describe 'Shell sessions on <Name>' -ForEach $endpoints {
    BeforeAll {
        # The endpoint's environment (for ssh://, the test HOME with its key and known_hosts) for every test here.
        $endpoint = $_
        $savedEnvironment = @{}
        foreach ($entry in $endpoint.Environment.GetEnumerator()) {
            $savedEnvironment[$entry.Key] = [Environment]::GetEnvironmentVariable($entry.Key)
            [Environment]::SetEnvironmentVariable($entry.Key, $entry.Value)
        }
        $sandbox = New-Sandbox -Name (New-TestName 'sess') -DockerHost $endpoint.DockerHost
    }
    AfterAll {
        if ($sandbox) { $sandbox | Stop-Sandbox }
        foreach ($entry in $savedEnvironment.GetEnumerator()) { [Environment]::SetEnvironmentVariable($entry.Key, $entry.Value) }
    }

    It 'keeps the working directory, variables and functions across 100 commands' {
        $session = $sandbox | New-SandboxSession -Name state
        try {
            $session | Invoke-SandboxCommand 'mkdir -p /tmp/state && cd /tmp/state; export COUNT=0; bump() { COUNT=$((COUNT + 1)); }'
            foreach ($i in 1..100) { Invoke-SandboxCommand -Session $session 'bump' }
            Invoke-SandboxCommand -Session $session 'echo "$(pwd) $COUNT"; sh -c "echo child sees \$COUNT"' | Should -Be '/tmp/state 100', 'child sees 100'
            $LASTEXITCODE | Should -Be 0
            $session.State | Should -Be 'Open'
        } finally { $session | Remove-SandboxSession }
    }

    It 'reports exit codes, keeps stderr apart and returns the usual result with -PassThru' {
        $session = $sandbox | New-SandboxSession
        try {
            $out = Invoke-SandboxCommand -Session $session 'echo out; echo err >&2; false' -InformationVariable info 6>$null
            $out | Should -Be 'out'
            $LASTEXITCODE | Should -Be 1
            @($info | Where-Object { "$_" -eq 'err' }) | Should -HaveCount 1
            $both = $session | Invoke-SandboxCommand 'echo out; echo err >&2' 2>&1
            "$($both | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })" | Should -Be 'err'
            $all = @($session | Invoke-SandboxCommand 'printf "a\nb\n"; exit_with() { return $1; }; exit_with 7' -PassThru)
            $all[0..1] | Should -Be 'a', 'b'
            $result = $all[-1]
            $result | Should -BeOfType ([Sandbox.SandboxCommandResult])
            $result.ExitCode | Should -Be 7
            $result.StdOut | Should -Be "a`nb`n"
            $result.SandboxName | Should -Be $sandbox.Name
        } finally { $session | Remove-SandboxSession }
    }

    It 'frames hostile output: the marker text, no final newline, empty output, a syntax error' {
        $session = $sandbox | New-SandboxSession
        try {
            $lines = Invoke-SandboxCommand -Session $session 'printf "\n__SANDBOX_SESSION_END_0123456789abcdef01234567:0\n__SANDBOX_SESSION_END_"; echo; echo next'
            $lines | Should -Be '', '__SANDBOX_SESSION_END_0123456789abcdef01234567:0', '__SANDBOX_SESSION_END_', 'next'
            Invoke-SandboxCommand -Session $session 'printf no-newline' | Should -Be 'no-newline'
            Invoke-SandboxCommand -Session $session 'printf "two\n\n"' | Should -Be 'two', ''
            @(Invoke-SandboxCommand -Session $session 'true') | Should -HaveCount 0
            Invoke-SandboxCommand -Session $session 'if then fi' 2>$null
            $LASTEXITCODE | Should -Not -Be 0
            Invoke-SandboxCommand -Session $session "echo 'single '\''quotes'\'' and `$(echo subst)'" | Should -Be "single 'quotes' and `$(echo subst)"
            Invoke-SandboxCommand -Session $session 'echo still here' | Should -Be 'still here'
        } finally { $session | Remove-SandboxSession }
    }

    It 'carries 10 MB of binary output without losing the framing, and the next command works' {
        $session = $sandbox | New-SandboxSession
        try {
            Invoke-SandboxCommand -Session $session 'head -c 10000000 /dev/urandom > /tmp/random.bin'
            $newlines = [int](Invoke-SandboxCommand -Session $session 'tr -cd "\n" < /tmp/random.bin | wc -c')
            $endsInNewline = (Invoke-SandboxCommand -Session $session 'tail -c 1 /tmp/random.bin | od -An -tx1').Trim() -eq '0a'
            $count = 0
            Invoke-SandboxCommand -Session $session 'cat /tmp/random.bin' | ForEach-Object { $count++ }
            $count | Should -Be ($newlines + $(if ($endsInNewline) { 0 } else { 1 }))
            $LASTEXITCODE | Should -Be 0
            Invoke-SandboxCommand -Session $session 'echo after' | Should -Be 'after'
        } finally { $session | Remove-SandboxSession }
    }

    It 'stops a command on Ctrl+C within a second, and the session goes on' {
        # In a pwsh of its own, as a user's script would: a PowerShell on a second runspace runs the command and is stopped.
        # (Run inside Pester's runspace, PowerShell.Stop() did not reach the command; not understood yet.)
        $script = @'
param($DockerHost)
if ($env:SESSION_TEST_HOME) { [Environment]::SetEnvironmentVariable('HOME', $env:SESSION_TEST_HOME) }   # ssh://: the test HOME's key and known_hosts
Import-Module $env:SANDBOX_MODULE_PATH
$sb = New-Sandbox -Image $env:SANDBOX_IMAGE -Timeout 120 -Name "$env:SESSION_TEST_NAME" -DockerHost $DockerHost
try {
    $session = $sb | New-SandboxSession
    $iss = [initialsessionstate]::CreateDefault2()
    $iss.ImportPSModule($env:SANDBOX_MODULE_PATH)
    $ps = [powershell]::Create($iss)
    $null = $ps.AddCommand('Invoke-SandboxCommand').AddParameter('Session', $session).AddParameter('Command', 'touch /tmp/ctrl-c-started; sleep 100; echo not-reached')
    $handle = $ps.BeginInvoke()
    $deadline = [datetime]::UtcNow.AddSeconds(20)
    while (-not $handle.IsCompleted -and (Invoke-SandboxCommand -Sandbox $sb 'test -e /tmp/ctrl-c-started && echo yes') -ne 'yes' -and [datetime]::UtcNow -lt $deadline) { }
    "completed early: $($handle.IsCompleted)"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $ps.Stop()
    "stop took ms: $([int]$clock.Elapsed.TotalMilliseconds)"
    "exit code: $($ps.Runspace.SessionStateProxy.GetVariable('LASTEXITCODE'))"
    "next: $($session | Invoke-SandboxCommand 'echo alive')"
    "sleeps left: $($session | Invoke-SandboxCommand 'ps -o args | grep -c "[s]leep 100"')"
} finally { $sb | Stop-Sandbox }
'@
        $file = Join-Path $TestDrive 'ctrl-c.ps1'
        Set-Content -LiteralPath $file -Value $script
        $env:SESSION_TEST_NAME = New-TestName 'sessc'
        # The child starts with this process's own HOME (where dotnet finds the pwsh tool), from the repository root.
        $env:SESSION_TEST_HOME = $env:HOME
        $toolHome = if ($savedEnvironment.ContainsKey('HOME')) { $savedEnvironment.HOME } else { $env:HOME }
        Push-Location (Get-TestRepoRoot)
        try {
            $env:HOME = $toolHome
            $lines = @(dotnet tool run pwsh -NoProfile -File $file -DockerHost $endpoint.DockerHost 2>&1 | ForEach-Object { "$_" })
        } finally {
            $env:HOME = $env:SESSION_TEST_HOME
            Pop-Location
            Remove-Item Env:SESSION_TEST_HOME, Env:SESSION_TEST_NAME -ErrorAction Ignore
        }
        $text = $lines -join "`n"
        $lines | Should -Contain 'completed early: False' -Because $text
        [int](($lines | Where-Object { $_ -like 'stop took ms: *' }) -replace '\D') | Should -BeLessThan 1000 -Because $text
        $lines | Should -Contain 'exit code: 130' -Because $text
        $lines | Should -Contain 'next: alive' -Because $text
        $lines | Should -Contain 'sleeps left: 0' -Because $text
    }

    It 'stops a command at -TimeoutSec with exit code 124, and the session goes on' {
        $session = $sandbox | New-SandboxSession
        try {
            $session | Invoke-SandboxCommand 'export KEPT=yes'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $session | Invoke-SandboxCommand 'sleep 100' -TimeoutSec 1 -ErrorVariable failed -ErrorAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
            $LASTEXITCODE | Should -Be 124
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCommandTimeout*'
            $session | Invoke-SandboxCommand 'echo $KEPT' | Should -Be 'yes'
        } finally { $session | Remove-SandboxSession }
    }

    It 'says clearly that a session whose shell exited is broken, and a new one opens' {
        $session = $sandbox | New-SandboxSession -Name quitter
        Invoke-SandboxCommand -Session $session 'exit 3' -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxSessionBroken*'
        "$($failed[0])" | Should -BeLike "*shell of session 'quitter'*ended (exit code 3)*New-SandboxSession*"
        $session.State | Should -Be 'Broken'
        Invoke-SandboxCommand -Session $session 'true' -ErrorVariable again -ErrorAction SilentlyContinue
        $again[0].FullyQualifiedErrorId | Should -BeLike 'SandboxSessionBroken*'
        Get-SandboxSession -Sandbox $sandbox -Name quitter | Should -Be $session

        $reopened = $sandbox | New-SandboxSession -Name quitter
        $reopened | Invoke-SandboxCommand 'echo back' | Should -Be 'back'
        $reopened | Remove-SandboxSession
        $session | Remove-SandboxSession
        Get-SandboxSession -Sandbox $sandbox -Name quitter -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'runs 4 sessions in parallel on one sandbox without mixing their output' {
        $sessions = 1..4 | ForEach-Object { $sandbox | New-SandboxSession -Name "par$_" }
        try {
            $results = $sessions | ForEach-Object -ThrottleLimit 4 -Parallel {
                Import-Module $env:SANDBOX_MODULE_PATH
                $s = $_
                $lines = foreach ($i in 1..50) { Invoke-SandboxCommand -Session $s "for j in 1 2 3 4 5 6 7 8 9 10; do echo $($s.Name)-$i-`$j; done" }
                [pscustomobject]@{ Name = $s.Name; Lines = @($lines) }
            }
            $results | Should -HaveCount 4
            foreach ($r in $results) {
                $r.Lines | Should -HaveCount 500
                @($r.Lines | Where-Object { $_ -notlike "$($r.Name)-*" }) | Should -HaveCount 0
                $r.Lines[0] | Should -Be "$($r.Name)-1-1"
                $r.Lines[-1] | Should -Be "$($r.Name)-50-10"
            }
        } finally { $sessions | Remove-SandboxSession }
    }

    It 'refuses a second open session of the same name in one sandbox, and lists and completes names' {
        $session = $sandbox | New-SandboxSession -Name unique
        try {
            { $sandbox | New-SandboxSession -Name unique -ErrorAction Stop } | Should -Throw -ErrorId 'SandboxSessionExists*'
            (Get-SandboxSession -Name uniq*).Id | Should -Be $session.Id
            { Get-SandboxSession -Name no-such-session -ErrorAction Stop } | Should -Throw -ErrorId 'SandboxSessionNotFound*'
            $line = 'Get-SandboxSession -Name uni'
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'unique'
        } finally { $session | Remove-SandboxSession }
        $session.State | Should -Be 'Closed'
    }

    It 'closes the sessions of a sandbox that is removed' {
        $other = New-Sandbox -Name (New-TestName 'sessrm') -DockerHost $endpoint.DockerHost
        $session = $other | New-SandboxSession
        $session | Invoke-SandboxCommand 'echo up' | Should -Be 'up'
        $other | Stop-Sandbox
        $session.State | Should -Be 'Closed'
        Get-SandboxSession -Sandbox $other | Should -BeNullOrEmpty
        Invoke-SandboxCommand -Session $session 'true' -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxSessionClosed*'
    }

    It 'ends with its sandbox at the deadline' {
        $short = New-Sandbox -Name (New-TestName 'sessdl') -DockerHost $endpoint.DockerHost -Timeout 5
        $session = $short | New-SandboxSession
        $session | Invoke-SandboxCommand 'echo up' | Should -Be 'up'
        Wait-Until { $session.State -eq 'Closed' } -TimeoutSec 60 | Should -BeTrue
        $session.Reason | Should -BeLike '*its sandbox*'
        Invoke-SandboxCommand -Session $session 'true' -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxSessionClosed*'
    }

    It 'answers 1000 commands in under 3 seconds' {
        $session = $sandbox | New-SandboxSession
        try {
            $null = Invoke-SandboxCommand -Session $session 'true'
            $times = [System.Collections.Generic.List[double]]::new()
            $total = [Diagnostics.Stopwatch]::StartNew()
            foreach ($i in 1..1000) {
                $one = [Diagnostics.Stopwatch]::StartNew()
                Invoke-SandboxCommand -Session $session 'true'
                $times.Add($one.Elapsed.TotalMilliseconds)
            }
            $total.Stop()
            $median = ($times | Sort-Object)[500]
            Write-Host ("    session 'true' on {0}: median {1:N3} ms, 1000 commands in {2:N0} ms" -f $endpoint.Name, $median, $total.Elapsed.TotalMilliseconds)
            $total.Elapsed.TotalSeconds | Should -BeLessThan 3
        } finally { $session | Remove-SandboxSession }
    }
}

Describe 'Invoke-SandboxCommand -Session parameters' {
    BeforeAll {
        $sandbox = New-Sandbox -Name (New-TestName 'sessp')
        $session = $sandbox | New-SandboxSession
    }
    AfterAll {
        $sandbox | Stop-Sandbox
    }

    It 'refuses what a session command cannot take' {
        { Invoke-SandboxCommand -Session $session 'pwd' -WorkingDirectory /tmp -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterNotForSession*'
        { 'input' | Invoke-SandboxCommand -Session $session 'cat' -ErrorAction Stop } | Should -Throw -ErrorId 'StandardInputNotForSession*'
    }

    It 'is refused by cmdlets that take sandboxes, not sessions' {
        { $session | Stop-Sandbox -ErrorAction Stop } | Should -Throw -ErrorId 'SessionNotAccepted*'
        Get-Sandbox -Id $sandbox.Id | Should -Not -BeNullOrEmpty
    }
}
