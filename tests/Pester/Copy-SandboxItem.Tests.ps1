#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'copy'

    $sandbox = New-Sandbox -Name (New-TestName 'copy')

    # Local files to copy in.
    $source = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'source')
    Set-Content -LiteralPath (Join-Path $source 'hello.txt') -Value 'hello from the host'
    Set-Content -LiteralPath (Join-Path $source 'a.txt') -Value 'A'
    Set-Content -LiteralPath (Join-Path $source 'b.txt') -Value 'B'
    Set-Content -LiteralPath (Join-Path $source 'c.log') -Value 'C'
    Set-Content -LiteralPath (Join-Path $source 'report[1].txt') -Value 'bracketed'
    $tree = New-Item -ItemType Directory -Path (Join-Path $source 'tree')
    New-Item -ItemType Directory -Path (Join-Path $tree 'sub') | Out-Null
    Set-Content -LiteralPath (Join-Path $tree 'top.txt') -Value 'top'
    Set-Content -LiteralPath (Join-Path $tree 'sub/deep.txt') -Value 'deep'

    function New-RandomFile([string] $Path, [int] $Bytes) {
        $data = [byte[]]::new($Bytes)
        [System.Random]::new(42).NextBytes($data)
        [System.IO.File]::WriteAllBytes($Path, $data)
        Get-Item -LiteralPath $Path
    }
    function Get-SandboxFileHash([string] $Path) {
        ((Invoke-SandboxCommand -Sandbox $sandbox "sha256sum '$Path'") -split ' ')[0]
    }
    function New-SandboxFolder([string] $Path) {
        Invoke-SandboxCommand -Sandbox $sandbox "mkdir -p '$Path'"
        $Path
    }
    function New-LocalFolder([string] $Name) {
        New-Item -ItemType Directory -Path (Join-Path $TestDrive $Name)
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Copy-SandboxItem' {

    Context 'into the sandbox (-ToSandbox, the default)' {
        It 'copies a file into /workspace by default' {
            $sandbox | Copy-SandboxItem -Path (Join-Path $source 'hello.txt')
            Invoke-SandboxCommand -Sandbox $sandbox 'cat /workspace/hello.txt' | Should -Be 'hello from the host'
        }

        It 'copies a file into a given folder' {
            $target = New-SandboxFolder '/workspace/in-file'
            $sandbox | Copy-SandboxItem (Join-Path $source 'hello.txt') $target -ToSandbox
            Invoke-SandboxCommand -Sandbox $sandbox "cat $target/hello.txt" | Should -Be 'hello from the host'
        }

        It 'copies a folder with -Recurse' {
            $target = New-SandboxFolder '/workspace/in-tree'
            $sandbox | Copy-SandboxItem -Path $tree.FullName -Destination $target -Recurse
            Invoke-SandboxCommand -Sandbox $sandbox "cat $target/tree/top.txt $target/tree/sub/deep.txt" | Should -Be 'top', 'deep'
        }

        It 'refuses a folder without -Recurse (RecurseRequired) and copies nothing' {
            $target = New-SandboxFolder '/workspace/in-norecurse'
            { $sandbox | Copy-SandboxItem -Path $tree.FullName -Destination $target -ErrorAction Stop } |
                Should -Throw -ErrorId 'RecurseRequired*'
            Invoke-SandboxCommand -Sandbox $sandbox "ls -A $target" | Should -BeNullOrEmpty
        }

        It 'expands wildcards in -Path' {
            $target = New-SandboxFolder '/workspace/in-wild'
            $sandbox | Copy-SandboxItem -Path (Join-Path $source '*.txt') -Destination $target
            $copied = Invoke-SandboxCommand -Sandbox $sandbox "ls $target"
            $copied | Should -Contain 'a.txt'
            $copied | Should -Contain 'b.txt'
            $copied | Should -Contain 'hello.txt'
            $copied | Should -Not -Contain 'c.log'
        }

        It 'takes names with [brackets] literally with -LiteralPath' {
            $target = New-SandboxFolder '/workspace/in-literal'
            $sandbox | Copy-SandboxItem -LiteralPath (Join-Path $source 'report[1].txt') -Destination $target
            Invoke-SandboxCommand -Sandbox $sandbox "cat '$target/report[1].txt'" | Should -Be 'bracketed'
        }

        It 'reports PathNotFound for a local path that does not exist' {
            $missing = Join-Path $TestDrive 'nothing-here.txt'
            $err = { $sandbox | Copy-SandboxItem -LiteralPath $missing -ErrorAction Stop } |
                Should -Throw -ErrorId 'PathNotFound*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'copies nothing with -WhatIf' {
            $target = New-SandboxFolder '/workspace/in-whatif'
            $sandbox | Copy-SandboxItem -Path (Join-Path $source 'hello.txt') -Destination $target -WhatIf
            Invoke-SandboxCommand -Sandbox $sandbox "ls -A $target" | Should -BeNullOrEmpty
        }
    }

    Context 'out of the sandbox (-FromSandbox)' {
        It 'copies a file out' {
            Invoke-SandboxCommand -Sandbox $sandbox "printf 'line1\nline2\n' > /workspace/out.txt"
            $local = New-LocalFolder 'out-file'
            $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/out.txt -Destination $local
            Get-Content -LiteralPath (Join-Path $local 'out.txt') | Should -Be 'line1', 'line2'
        }

        It 'copies a folder out with -Recurse' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/result/sub && echo x > /workspace/result/sub/x.txt && echo y > /workspace/result/y.txt'
            $local = New-LocalFolder 'out-tree'
            $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/result -Destination $local -Recurse
            Get-Content -LiteralPath (Join-Path $local 'result/sub/x.txt') | Should -Be 'x'
            Get-Content -LiteralPath (Join-Path $local 'result/y.txt') | Should -Be 'y'
        }

        It 'refuses a folder without -Recurse (RecurseRequired) and writes nothing' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/result2 && echo z > /workspace/result2/z.txt'
            $local = New-LocalFolder 'out-norecurse'
            { $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/result2 -Destination $local -ErrorAction Stop } |
                Should -Throw -ErrorId 'RecurseRequired*'
            Get-ChildItem -LiteralPath $local -Force | Should -BeNullOrEmpty
        }

        It 'reports an error for a sandbox path that does not exist and writes nothing' {
            $local = New-LocalFolder 'out-missing'
            { $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/no-such-file -Destination $local -ErrorAction Stop } |
                Should -Throw
            Get-ChildItem -LiteralPath $local -Force | Should -BeNullOrEmpty
        }
    }

    Context 'content' {
        It 'round-trips a binary file byte for byte' {
            $blob = New-RandomFile (Join-Path $TestDrive 'blob.bin') (3MB + 17)
            $expected = (Get-FileHash -LiteralPath $blob -Algorithm SHA256).Hash.ToLowerInvariant()

            $target = New-SandboxFolder '/workspace/bin'
            $sandbox | Copy-SandboxItem -LiteralPath $blob -Destination $target
            Get-SandboxFileHash '/workspace/bin/blob.bin' | Should -Be $expected

            $back = New-LocalFolder 'roundtrip'
            $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/bin/blob.bin -Destination $back
            $returned = Join-Path $back 'blob.bin'
            (Get-Item -LiteralPath $returned).Length | Should -Be $blob.Length
            (Get-FileHash -LiteralPath $returned -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be $expected
        }

        It 'copies a 50 MB file' {
            $big = New-RandomFile (Join-Path $TestDrive 'big.bin') 50MB
            $expected = (Get-FileHash -LiteralPath $big -Algorithm SHA256).Hash.ToLowerInvariant()
            $sandbox | Copy-SandboxItem -LiteralPath $big -Destination /tmp -ProgressAction SilentlyContinue
            Invoke-SandboxCommand -Sandbox $sandbox 'stat -c %s /tmp/big.bin' | Should -Be '52428800'
            Get-SandboxFileHash '/tmp/big.bin' | Should -Be $expected
        }
    }
}
