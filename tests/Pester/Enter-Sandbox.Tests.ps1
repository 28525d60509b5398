#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Enter-Sandbox in a real terminal: a detached tmux session (own server socket, fixed size) runs pwsh with the module,
# the tests type into it with `tmux send-keys` and read the screen with `tmux capture-pane`, waiting for what they
# expect to appear. build.sh installs tmux.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $remoteEndpoints = @(Get-TestEndpoints -Name Ssh, Tls)
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'term'
    if (-not (Get-Command tmux -CommandType Application -ErrorAction SilentlyContinue)) {
        throw 'tmux is missing: ./build.sh installs it (Debian package tmux).'
    }
    $script:TmuxSocket = "sandbox-test-$PID"
    $script:Polyglot = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }

    function Invoke-Tmux {
        $output = & tmux -L $script:TmuxSocket @args 2>&1
        if ($LASTEXITCODE -ne 0) { throw "tmux $($args -join ' ') failed: $output" }
        $output
    }

    function Start-Terminal {
        # A pwsh with the module imported, in a detached tmux session of the given size; waits for its prompt.
        param([string] $Session, [hashtable] $Environment = @{}, [int] $Width = 100, [int] $Height = 30)
        # A test HOME (ssh://) must not hide the .NET tools and packages of the real one.
        $userHome = [Environment]::GetFolderPath('UserProfile')
        $environment = @{
            SANDBOX_MODULE_PATH = $env:SANDBOX_MODULE_PATH; NO_COLOR = '1'
            DOTNET_CLI_HOME = if ($env:DOTNET_CLI_HOME) { $env:DOTNET_CLI_HOME } else { $userHome }
            NUGET_PACKAGES  = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $userHome '.nuget/packages' }
        } + $Environment
        $settings = foreach ($name in $environment.Keys) { if ($null -ne $environment[$name]) { '-e'; "$name=$($environment[$name])" } }
        $null = Invoke-Tmux new-session -d -s $Session -x $Width -y $Height -c (Get-TestRepoRoot) @settings 'dotnet tool run pwsh -NoProfile'
        Wait-Screen $Session '(?m)^PS .*> ' 'the pwsh prompt'
        Send-Line $Session 'Import-Module $env:SANDBOX_MODULE_PATH; "imported-" + (Get-Module Sandbox).Name'
        Wait-Screen $Session '(?m)^imported-Sandbox\s*$' 'the module imported'
    }

    function Get-Screen([string] $Session) {
        # The pane with its recent history, wrapped lines joined.
        (Invoke-Tmux capture-pane -p -J -S -200 -t $Session) -join "`n"
    }

    function Wait-Screen {
        param([string] $Session, [string] $Pattern, [string] $What, [double] $TimeoutSec = 20)
        $seen = Wait-Until -TimeoutSec $TimeoutSec -IntervalMs 50 { (Get-Screen $Session) -match $Pattern }
        if (-not $seen) { throw "Waited $TimeoutSec s for $What (/$Pattern/); the screen:`n$(Get-Screen $Session)" }
    }

    function Get-MatchCount([string] $Session, [string] $Pattern) { ([regex]::Matches((Get-Screen $Session), $Pattern)).Count }

    function Send-Line([string] $Session, [string] $Text) {
        $null = Invoke-Tmux send-keys -t $Session -l $Text
        $null = Invoke-Tmux send-keys -t $Session Enter
    }

    function Wait-ShellSize {
        # Asks the shell for its terminal size until it is the expected one: the resize reaches the sandbox a moment after
        # the window changed (a SIGWINCH here, then an engine call), so each answer is read before asking again.
        param([string] $Session, [int] $Columns, [int] $Rows, [double] $TimeoutSec = 20)
        $end = [datetime]::UtcNow.AddSeconds($TimeoutSec)
        for ($n = 1; [datetime]::UtcNow -lt $end; $n++) {
            $marker = "size$(Get-Random -Maximum 99999)n$n"
            Send-Line $Session "echo $marker-`$(stty size | tr ' ' x)-end"
            Wait-Screen $Session "(?m)^$marker-\d+x\d+-end\s*$" "the answer to stty size"
            if ((Get-Screen $Session) -match "(?m)^$marker-${Rows}x$Columns-end\s*$") { return }
        }
        throw "The shell did not see ${Columns}x$Rows within $TimeoutSec s; the screen:`n$(Get-Screen $Session)"
    }

    function Send-Key([string] $Session, [string[]] $Key) { $null = Invoke-Tmux send-keys -t $Session @Key }

    function Enter-TestSandbox {
        # Types Enter-Sandbox for the sandbox and waits until its shell answers. Keys typed in the same instant as the
        # Enter that ran the command may be read ahead by PowerShell's console reader, so the shell's prompt comes first.
        param([string] $Session, [string] $Name, [string] $Extra = '')
        Send-Line $Session "Enter-Sandbox -Name $Name $Extra".TrimEnd()
        Wait-Screen $Session ('(?m)Enter-Sandbox -Name {0}.*\n(.*\n)*.*[#$] *\s*\z' -f [regex]::Escape("$Name $Extra".TrimEnd())) 'the shell prompt'
        Send-Line $Session 'echo entered-$((20+22))'
        Wait-Screen $Session '(?m)^entered-42\s*$' 'the sandbox shell'
    }
}

AfterAll {
    & tmux -L $script:TmuxSocket kill-server *> $null
    # kill-server leaves the socket file behind.
    $socketDir = if ($env:TMUX_TMPDIR) { $env:TMUX_TMPDIR } else { '/tmp' }
    Remove-Item -LiteralPath (Join-Path $socketDir "tmux-$(id -u)/$script:TmuxSocket") -Force -ErrorAction SilentlyContinue
    Complete-SandboxTest
}

Describe 'Enter-Sandbox in a terminal' {

    Context 'on the local engine, busybox sh' {
        BeforeAll {
            $name = New-TestName 'busybox'
            $sandbox = New-Sandbox -Name $name
            Start-Terminal 'local'
            Enter-TestSandbox 'local' $name
        }

        It 'runs what is typed and shows its output' {
            $marker = Get-Random -Minimum 100000 -Maximum 999999
            Send-Line 'local' "echo hello-$marker-`$((6*7))"
            Wait-Screen 'local' "(?m)^hello-$marker-42\s*$" 'the echo'
        }

        It 'gives the shell the size of the terminal, and the new size after a resize' {
            Wait-ShellSize 'local' -Columns 100 -Rows 30

            $null = Invoke-Tmux resize-window -t local -x 120 -y 40
            Wait-ShellSize 'local' -Columns 120 -Rows 40
        }

        It 'sends the arrow keys to the shell: Up recalls the last command' {
            Send-Line 'local' 'echo recalled-$((1+1))'
            Wait-Screen 'local' '(?m)^recalled-2\s*$' 'the first run'
            Send-Key 'local' Up, Enter
            $twice = Wait-Until -TimeoutSec 20 -IntervalMs 50 { (Get-MatchCount 'local' '(?m)^recalled-2\s*$') -ge 2 }
            $twice | Should -BeTrue -Because "Up and Enter run the command again; the screen:`n$(Get-Screen 'local')"
        }

        It 'sends Tab to the shell: it completes a file name' {
            Send-Line 'local' 'touch /tmp/completion-target-file; echo touched-$((3*3))'
            Wait-Screen 'local' '(?m)^touched-9\s*$' 'the file made'
            $null = Invoke-Tmux send-keys -t local -l 'ls /tmp/completion-t'
            Send-Key 'local' Tab
            Wait-Screen 'local' '(?m)ls /tmp/completion-target-file\s*$' 'the completed name'
            Send-Key 'local' Enter
            Wait-Screen 'local' '(?m)^/tmp/completion-target-file\s*$' 'ls of the completed name'
        }

        It 'sends Ctrl+C to the command in the sandbox: it stops within a second and the shell stays' {
            Send-Line 'local' 'sleep 100'
            $running = Wait-Until -TimeoutSec 20 { $sandbox | Invoke-SandboxCommand 'ps -o args' | Where-Object { $_ -eq 'sleep 100' } }
            $running | Should -BeTrue -Because 'the sleep must run before it is interrupted'

            $clock = [Diagnostics.Stopwatch]::StartNew()
            Send-Key 'local' C-c
            Send-Line 'local' 'echo after-$((2+3))'
            $back = Wait-Until -TimeoutSec 10 -IntervalMs 20 { (Get-Screen 'local') -match '(?m)^after-5\s*$' }
            $clock.Stop()

            $back | Should -BeTrue -Because "the shell runs the next command; the screen:`n$(Get-Screen 'local')"
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
            $sandbox | Invoke-SandboxCommand 'ps -o args' | Should -Not -Contain 'sleep 100'
        }

        It 'returns to the PowerShell prompt on exit, with the exit code in $LASTEXITCODE' {
            Send-Line 'local' 'exit 7'
            Wait-Screen 'local' '(?m)exit 7\s*\n(.*\n)*PS .*> ' 'the pwsh prompt after exit'
            Send-Line 'local' '"code=$LASTEXITCODE"'
            Wait-Screen 'local' '(?m)^code=7\s*$' '$LASTEXITCODE'
        }

        It 'leaves the local terminal as it found it: PowerShell echoes, and each line starts at the left edge' {
            $tty = Invoke-Tmux display-message -p -t local '#{pane_tty}'
            $settings = (stty -a -F $tty) -join ' '
            $settings | Should -Match '(^|\s)opost(\s|$)' -Because 'raw mode turned output processing off'

            Send-Line 'local' "1..3 | ForEach-Object { 'cooked' + `$_ }"
            Wait-Screen 'local' "(?m)^PS .*> 1\.\.3 \| ForEach-Object \{ 'cooked' \+ \`$_ \}\s*\ncooked1\s*\ncooked2\s*\ncooked3\s*$" 'three lines at the left edge'
        }
    }

    Context 'on the local engine, an image with bash' {
        BeforeAll {
            docker image inspect $script:Polyglot *> $null
            if ($LASTEXITCODE -ne 0) { throw "The polyglot image '$script:Polyglot' is missing; build it with tests/setup/New-PolyglotImage.sh." }
            $name = New-TestName 'bash'
            $null = New-Sandbox -Name $name -Image $script:Polyglot
            Start-Terminal 'bash'
            Enter-TestSandbox 'bash' $name
        }

        It 'starts bash by default when the image has it' {
            Send-Line 'bash' 'echo shell-${BASH_VERSION:+bash}-end'
            Wait-Screen 'bash' '(?m)^shell-bash-end\s*$' 'the shell named'
        }

        It 'recalls history with Up in bash' {
            Send-Line 'bash' 'echo bash-history-$((4+4))'
            Wait-Screen 'bash' '(?m)^bash-history-8\s*$' 'the first run'
            Send-Key 'bash' Up, Enter
            $twice = Wait-Until -TimeoutSec 20 -IntervalMs 50 { (Get-MatchCount 'bash' '(?m)^bash-history-8\s*$') -ge 2 }
            $twice | Should -BeTrue -Because "Up and Enter run the command again; the screen:`n$(Get-Screen 'bash')"
        }

        It 'takes -Shell, -User and -WorkingDirectory' {
            Send-Line 'bash' 'exit'
            Wait-Screen 'bash' '(?m)^PS .*> $' 'the pwsh prompt'
            Enter-TestSandbox 'bash' $name '-Shell /bin/sh -User 1000 -WorkingDirectory /tmp'
            Send-Line 'bash' 'echo who-$(id -u)-$(pwd)-${BASH_VERSION:-nobash}'
            Wait-Screen 'bash' '(?m)who-1000-/tmp-nobash\s*$' 'the shell with those settings'
            Send-Line 'bash' 'exit 0'
            # Keys typed before the prompt is back go to the sandbox's shell, as with docker exec -it: wait for it.
            Wait-Screen 'bash' '(?m)exit 0\s*\n(.*\n)*PS .*> ' 'the pwsh prompt after exit'
            Send-Line 'bash' '"code=$LASTEXITCODE"'
            Wait-Screen 'bash' '(?m)^code=0\s*$' '$LASTEXITCODE'
        }

        It 'enters one sandbox only: a name that matches several is an error' {
            Send-Line 'bash' "Enter-Sandbox -Name '$(Get-TestPrefix)-*' -ErrorVariable failed -ErrorAction SilentlyContinue; 'error=' + `$failed[0].FullyQualifiedErrorId"
            Wait-Screen 'bash' '(?m)^error=SandboxAmbiguous,Sandbox.Commands.EnterSandboxCommand\s*$' 'the error'
        }
    }

    Context 'over <Name> (<DockerHost>)' -ForEach $remoteEndpoints {
        BeforeAll {
            $session = "remote-$($Name.ToLowerInvariant())"
            $sandboxName = New-TestName $Name.ToLowerInvariant()
            Use-TestEndpoint $_ { $null = New-Sandbox -Name $sandboxName }
            Start-Terminal $session -Environment $Environment
            Enter-TestSandbox $session $sandboxName
        }

        It 'runs what is typed, follows a resize, and returns the exit code' {
            $marker = Get-Random -Minimum 100000 -Maximum 999999
            Send-Line $session "echo remote-$marker-`$((6*7))"
            Wait-Screen $session "(?m)^remote-$marker-42\s*$" 'the echo'

            $null = Invoke-Tmux resize-window -t $session -x 110 -y 35
            Wait-ShellSize $session -Columns 110 -Rows 35

            Send-Line $session 'exit 3'
            Wait-Screen $session '(?m)exit 3\s*\n(.*\n)*PS .*> ' 'the pwsh prompt after exit'
            Send-Line $session '"code=$LASTEXITCODE"'
            Wait-Screen $session '(?m)^code=3\s*$' '$LASTEXITCODE'
        }
    }
}

Describe 'Enter-Sandbox without a terminal' {
    It 'refuses at once with TerminalNotInteractive when stdin is redirected, pointing at the non-interactive cmdlets' {
        $name = New-TestName 'noterm'
        $null = New-Sandbox -Name $name
        $script = "Import-Module '$env:SANDBOX_MODULE_PATH'; try { Enter-Sandbox -Name '$name' -ErrorAction Stop } catch { 'id=' + `$_.FullyQualifiedErrorId; 'message=' + `$_.Exception.Message; 'advice=' + `$_.ErrorDetails.RecommendedAction }"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $output = '' | & dotnet tool run pwsh -NoProfile -NonInteractive -Command $script 2>&1
        $clock.Stop()

        $output | Should -Contain 'id=TerminalNotInteractive,Sandbox.Commands.EnterSandboxCommand'
        ($output | Where-Object { $_ -like 'message=*' }) | Should -Match 'needs an interactive terminal'
        ($output | Where-Object { $_ -like 'advice=*' }) | Should -Match 'Invoke-SandboxCommand'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 60 -Because 'it must not wait for input'
    }
}
