#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Code kernels: Invoke-SandboxCode -Session keeps a Python or Node interpreter alive in the session's sandbox, with
# its variables, call after call; on the polyglot image (python3, node 18), over the local socket and ssh://.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $endpoints = @(Get-TestEndpoints -Name Local, Ssh)
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'kernel'
    Assert-TestEndpoint -Name Local, Ssh

    $poly = if ($env:SANDBOX_POLYGLOT_IMAGE) { $env:SANDBOX_POLYGLOT_IMAGE } else { 'sandbox-local/polyglot:bookworm' }
    docker image inspect $poly *> $null
    if ($LASTEXITCODE -ne 0) { throw "The polyglot image '$poly' is missing; build it with tests/setup/New-PolyglotImage.sh." }

    # Command lines of the kernels' interpreters in a sandbox (the drivers run as `python3 -c` and `node -e`).
    function Get-KernelProcess([Parameter(Mandatory)] $Sandbox) {
        @(docker exec $Sandbox.Id sh -c 'for p in /proc/[0-9]*; do tr "\0" " " < $p/cmdline 2>/dev/null; echo; done' |
            Where-Object { $_ -match '^(python3 -c|node -e) ' })
    }
}

AfterAll { Complete-SandboxTest }

Describe 'Code kernels on <Name>' -ForEach $endpoints {

    BeforeAll {
        $endpoint = $_
        $sandbox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "kernel-$($endpoint.Name.ToLower())") -Image $poly -ErrorAction Stop }
        $session = Use-TestEndpoint $endpoint { New-SandboxSession -Sandbox $sandbox -ErrorAction Stop }
        function Invoke-Kernel {
            [CmdletBinding()]
            param([string] $Language, [string] $Code, [int] $TimeoutSec = 0, [switch] $ErrorOnExitCode)
            Use-TestEndpoint $endpoint { Invoke-SandboxCode -Session $session -Language $Language -Code $Code -TimeoutSec $TimeoutSec -ErrorOnExitCode:$ErrorOnExitCode }
        }
    }

    AfterAll {
        if ($sandbox) { Use-TestEndpoint $endpoint { $sandbox | Stop-Sandbox -ErrorAction SilentlyContinue } }
    }

    Context 'python' {
        It 'keeps a variable across 100 calls' {
            Invoke-Kernel python 'x = 1' | Should -BeNullOrEmpty
            foreach ($i in 1..100) { Invoke-Kernel python 'x += 1' }
            Invoke-Kernel python 'print(x)' | Should -Be '101'
            $LASTEXITCODE | Should -Be 0
        }

        It 'gives the last expression''s repr, as the REPL does, and nothing for None' {
            Invoke-Kernel python "x; 'a' + 'b'" | Should -Be "'ab'"
            Invoke-Kernel python 'None' | Should -BeNullOrEmpty
        }

        It 'turns an exception into an error record with the traceback, exit code 1, and keeps the kernel' {
            $output = Invoke-Kernel python "def boom():`n    raise ValueError('bad value')`nboom()" -ErrorVariable failed -ErrorAction SilentlyContinue
            $output | Should -BeNullOrEmpty
            $LASTEXITCODE | Should -Be 1
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCodeError,*'
            $failed[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $message = $failed[0].Exception.Message
            $message | Should -Match '^Traceback \(most recent call last\):'
            $message | Should -Match 'File "<code>", line 3, in <module>'
            $message | Should -Match 'in boom'
            $message | Should -Match 'ValueError: bad value$'
            $message | Should -Not -Match 'File "<string>"' -Because 'the driver''s own frames are left out'
            Invoke-Kernel python 'print(x)' | Should -Be '101'
            $LASTEXITCODE | Should -Be 0
        }

        It 'adds SandboxCommandFailed with -ErrorOnExitCode, and a syntax error is a traceback too' {
            $null = Invoke-Kernel python 'def f(:' -ErrorOnExitCode -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Should -Be 'SandboxCodeError', 'SandboxCommandFailed'
            $failed[0].Exception.Message | Should -Match 'SyntaxError'
        }

        It 'interrupts a runaway loop at -TimeoutSec, with exit code 124, and the kernel keeps its variables' {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Kernel python 'while True: pass' -TimeoutSec 1 -ErrorVariable failed -ErrorAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2.5
            $LASTEXITCODE | Should -Be 124
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCommandTimeout,*'
            $failed[0].Exception.Message | Should -Match 'interrupted; the kernel kept its state'
            Invoke-Kernel python 'print(x)' | Should -Be '101'
        }

        It 'stops a runaway loop on Ctrl+C within a second, with exit code 130, and the kernel keeps its variables' {
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddScript({
                    # The session holds its own engine connection: nothing of the endpoint's environment is needed here.
                    param($ModulePath, $Session)
                    Import-Module $ModulePath
                    Invoke-SandboxCode -Session $Session -Language python -Code "print('looping', flush=True)`nwhile True: pass"
                }).AddArgument((Get-SandboxModulePath)).AddArgument($session)
                $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
                $running = $shell.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
                Wait-Until { $output -contains 'looping' } -TimeoutSec 30 | Should -BeTrue
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $shell.Stop()
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
                $running.IsCompleted | Should -BeTrue
                $shell.Runspace.SessionStateProxy.GetVariable('LASTEXITCODE') | Should -Be 130
            } finally { $shell.Dispose() }
            Invoke-Kernel python 'print(x)' | Should -Be '101'
        }

        It 'kills a kernel whose code ignores the interrupt, says so, and starts a new one on the next call' {
            $stubborn = "import time`nwhile True:`n    try:`n        time.sleep(10)`n    except KeyboardInterrupt: pass"
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Kernel python 'kept = 1' -ErrorAction Stop
            $null = Invoke-Kernel python $stubborn -TimeoutSec 1 -ErrorVariable failed -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 8
            $LASTEXITCODE | Should -Be 124
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCommandTimeout,*'
            "$warned" | Should -Match 'did not stop when interrupted and was killed'
            $null = Invoke-Kernel python 'print("kept" in globals())' -OutVariable fresh -WarningVariable restarted -WarningAction SilentlyContinue
            "$fresh" | Should -Be 'False'
            "$restarted" | Should -Match 'had ended and was started again'
            Invoke-Kernel python 'x = 101' | Should -BeNullOrEmpty
        }

        It 'passes output that looks like the framing, raw writes to fd 1 and a child''s output through intact' {
            $code = @'
import os, subprocess, sys
print('D\x00\x00\x00\x020')
os.write(1, b'R\x00\x00\x00\x05hello raw\n')
subprocess.run(['echo', 'from a child'])
_ = sys.stdout.write('no newline at the end')
'@
            $lines = Invoke-Kernel python $code
            $lines | Should -Be @("D`0`0`0`u{2}0", "R`0`0`0`u{5}hello raw", 'from a child', 'no newline at the end') 
            Invoke-Kernel python 'print(x)' | Should -Be '101'
        }

        It 'sends stderr where a native command''s goes' {
            $all = Invoke-Kernel python "import sys; print('out'); sys.stderr.write('err line\n')" 2>&1
            @($all | Where-Object { $_ -is [string] }) | Should -Be 'out', '9'
            @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) | Should -Be 'err line'
        }

        It 'runs a stateful call in a median of at most 5 ms (200 calls)' {
            $clock = [Diagnostics.Stopwatch]::new()
            $times = foreach ($i in 1..200) {
                $clock.Restart()
                Invoke-Kernel python 'x += 1'
                $clock.Elapsed.TotalMilliseconds
            }
            $median = ($times | Sort-Object)[100]
            Write-Host ("    median of a stateful python call on {0}: {1:N2} ms" -f $endpoint.Name, $median)
            $median | Should -BeLessOrEqual 5
            Invoke-Kernel python 'print(x)' | Should -Be '301'
        }
    }

    Context 'node' {
        It 'keeps a let across 100 calls' {
            Invoke-Kernel node 'let n = 1' | Should -BeNullOrEmpty
            foreach ($i in 1..100) { $null = Invoke-Kernel node 'n += 1' }
            Invoke-Kernel node 'console.log(n)' | Should -Be '101'
            $LASTEXITCODE | Should -Be 0
        }

        It 'turns a thrown Error into an error record with its stack, exit code 1, and keeps the kernel' {
            $output = Invoke-Kernel node "function boom() { throw new Error('bad value') }`nboom()" -ErrorVariable failed -ErrorAction SilentlyContinue
            $output | Should -BeNullOrEmpty
            $LASTEXITCODE | Should -Be 1
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCodeError,*'
            $message = $failed[0].Exception.Message
            $message | Should -Match '^Error: bad value'
            $message | Should -Match 'at boom \(<code>:1:'
            $message | Should -Not -Match 'node:vm' -Because 'the driver''s own frames are left out'
            Invoke-Kernel node 'console.log(n)' | Should -Be '101'
        }

        It 'interrupts a sync infinite loop at -TimeoutSec, and the kernel keeps its variables' {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Kernel node 'while (true) {}' -TimeoutSec 1 -ErrorVariable failed -ErrorAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2.5
            $LASTEXITCODE | Should -Be 124
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCommandTimeout,*'
            Invoke-Kernel node 'console.log(n)' | Should -Be '101'
        }

        It 'awaits a promise left as the last expression' {
            Invoke-Kernel node 'new Promise(r => setTimeout(() => r(n * 2), 50))' | Should -Be '202'
        }

        It 'passes framing-looking output through intact; a raw write to fd 1 arrives on stderr' {
            $all = Invoke-Kernel node "console.log('D\x00\x00\x00\x020'); process.stdout.write('R\x00\x00\x00\x05hi\n'); require('fs').writeSync(1, 'raw fd 1\n')" 2>&1
            @($all | Where-Object { $_ -is [string] }) | Should -Be @("D`0`0`0`u{2}0", "R`0`0`0`u{5}hi", '9')
            @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) | Should -Be 'raw fd 1'
            Invoke-Kernel node 'console.log(n)' | Should -Be '101'
        }
    }

    Context 'the session' {
        It 'takes the session from the pipeline' {
            Use-TestEndpoint $endpoint { $session | Invoke-SandboxCode -Language python 'print(x > 100)' } | Should -Be 'True'
        }

        It 'refuses a language without a kernel, and parameters a kernel cannot honour' {
            { Use-TestEndpoint $endpoint { Invoke-SandboxCode -Session $session -Language shell 'echo hi' -ErrorAction Stop } } |
                Should -Throw -ErrorId 'KernelLanguageNotSupported,Sandbox.Commands.InvokeSandboxCodeCommand'
            { Use-TestEndpoint $endpoint { Invoke-SandboxCode -Session $session -Language python 'x' -WorkingDirectory /tmp -ErrorAction Stop } } |
                Should -Throw -ErrorId 'ParameterNotForSession,Sandbox.Commands.InvokeSandboxCodeCommand'
        }

        It 'keeps one interpreter a language, and closes them with the session' {
            $other = Use-TestEndpoint $endpoint { New-SandboxSession -Sandbox $sandbox -Name (New-TestName 'closing') -ErrorAction Stop }
            $before = @(Get-KernelProcess $sandbox).Count
            Use-TestEndpoint $endpoint { Invoke-SandboxCode -Session $other -Language python 'y = 1'; Invoke-SandboxCode -Session $other -Language python 'y += 1' }
            @(Get-KernelProcess $sandbox).Count | Should -Be ($before + 1)
            Use-TestEndpoint $endpoint { $other | Remove-SandboxSession }
            Wait-Until { @(Get-KernelProcess $sandbox).Count -eq $before } | Should -BeTrue -Because 'closing the session ends its kernels'
            { Use-TestEndpoint $endpoint { Invoke-SandboxCode -Session $other -Language python 'y' -ErrorAction Stop } } |
                Should -Throw -ErrorId 'SandboxSessionClosed,Sandbox.Commands.InvokeSandboxCodeCommand'
        }
    }
}
