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

        It "copies one folder to a new path ending in '/' under that name, as docker cp does" {
            $sandbox | Copy-SandboxItem -Path $tree.FullName -Destination '/workspace/in-new-folder/' -Recurse
            Invoke-SandboxCommand -Sandbox $sandbox 'cat /workspace/in-new-folder/top.txt /workspace/in-new-folder/sub/deep.txt' | Should -Be 'top', 'deep'
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

        It "copies one folder to a new local path ending in '/' under that name, as docker cp does" {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/result3 && echo w > /workspace/result3/w.txt'
            $local = Join-Path (New-LocalFolder 'out-new') 'made/'
            $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/result3 -Destination $local -Recurse
            Get-Content -LiteralPath (Join-Path $local 'w.txt') | Should -Be 'w'
        }

        It 'refuses several items to a local folder that does not exist, rather than writing each over the last' {
            Invoke-SandboxCommand -Sandbox $sandbox 'echo one > /workspace/one.txt && echo two > /workspace/two.txt'
            $parent = New-LocalFolder 'out-several'
            $err = { $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/one.txt, /workspace/two.txt -Destination (Join-Path $parent 'missing') -ErrorAction Stop } |
                Should -Throw -ErrorId 'PathNotFound*' -PassThru
            $err.Exception.Message | Should -BeLike '*2 items can only be copied into an existing folder*'
            Get-ChildItem -LiteralPath $parent -Force | Should -BeNullOrEmpty
        }

        It 'reports an error for a sandbox path that does not exist and writes nothing' {
            $local = New-LocalFolder 'out-missing'
            { $sandbox | Copy-SandboxItem -FromSandbox -Path /workspace/no-such-file -Destination $local -ErrorAction Stop } |
                Should -Throw
            Get-ChildItem -LiteralPath $local -Force | Should -BeNullOrEmpty
        }
    }

    Context 'out of the sandbox over links already in the destination' {
        # Each entry type, copied out over a symbolic link the user left at its path, must replace the link itself:
        # the file the link points to, outside the destination, stays as it was.
        BeforeAll {
            function New-LinkedDestination([string] $Case, [string] $LinkName, [switch] $ToFolder, [switch] $Dangling) {
                # dest/<Case>/<LinkName> -> outside/victim (a file, a folder, or nothing); returns the paths.
                $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive "links-$Case")
                $outside = New-Item -ItemType Directory -Path (Join-Path $root 'outside')
                $dest = New-Item -ItemType Directory -Path (Join-Path $root 'dest')
                $null = New-Item -ItemType Directory -Path (Join-Path $dest $Case)
                $victim = Join-Path $outside 'victim'
                if ($ToFolder) {
                    $null = New-Item -ItemType Directory -Path $victim
                    Set-Content -LiteralPath (Join-Path $victim 'keep.txt') -Value 'outside, untouched'
                } elseif (-not $Dangling) {
                    Set-Content -LiteralPath $victim -Value 'outside, untouched'
                }
                $link = New-Item -ItemType SymbolicLink -Path (Join-Path $dest "$Case/$LinkName") -Target $victim
                @{ Dest = $dest.FullName; Outside = $outside.FullName; Link = $link.FullName; Before = Get-OutsideSnapshot $outside.FullName }
            }
            function Get-OutsideSnapshot([string] $Path) {
                # Every name under the folder with its content, as one comparable text.
                @(Get-ChildItem -LiteralPath $Path -Recurse -Force | Sort-Object FullName | ForEach-Object {
                    $text = if ($_ -is [IO.FileInfo]) { [IO.File]::ReadAllText($_.FullName) } else { '<dir>' }
                    '{0}={1}' -f $_.FullName.Substring($Path.Length), $text
                }) -join "`n"
            }
            function Copy-Out([string] $Case, [string] $Dest) {
                $errors = @()
                $sandbox | Copy-SandboxItem -FromSandbox -Path "/workspace/$Case" -Destination $Dest -Recurse -ErrorVariable errors -ErrorAction SilentlyContinue
                $errors
            }
        }

        It 'a file entry replaces the link and leaves the file it points to alone' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-file && echo from-sandbox > /workspace/over-file/data.txt'
            $case = New-LinkedDestination 'over-file' 'data.txt'
            Copy-Out 'over-file' $case.Dest | Should -BeNullOrEmpty
            Get-OutsideSnapshot $case.Outside | Should -Be $case.Before
            (Get-Item -LiteralPath $case.Link).LinkTarget | Should -BeNullOrEmpty
            Get-Content -LiteralPath $case.Link | Should -Be 'from-sandbox'
        }

        It 'a file entry replaces a dangling link without making the file it points to' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-dangling && echo from-sandbox > /workspace/over-dangling/data.txt'
            $case = New-LinkedDestination 'over-dangling' 'data.txt' -Dangling
            Copy-Out 'over-dangling' $case.Dest | Should -BeNullOrEmpty
            Get-ChildItem -LiteralPath $case.Outside -Force | Should -BeNullOrEmpty
            (Get-Item -LiteralPath $case.Link).LinkTarget | Should -BeNullOrEmpty
            Get-Content -LiteralPath $case.Link | Should -Be 'from-sandbox'
        }

        It 'a file entry does not write through a link at the name it is written under before it is complete' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-partial && echo from-sandbox > /workspace/over-partial/data.txt'
            $case = New-LinkedDestination 'over-partial' 'data.txt.sandbox-partial'
            Copy-Out 'over-partial' $case.Dest | Should -BeNullOrEmpty
            Get-OutsideSnapshot $case.Outside | Should -Be $case.Before
            $copied = Join-Path $case.Dest 'over-partial/data.txt'
            (Get-Item -LiteralPath $copied).LinkTarget | Should -BeNullOrEmpty
            Get-Content -LiteralPath $copied | Should -Be 'from-sandbox'
        }

        It 'a hard-link entry replaces the link and leaves the file it points to alone' {
            # b.txt is a hard link to a.txt, so the archive carries it as a hard-link entry after a.txt.
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-hard && echo from-sandbox > /workspace/over-hard/a.txt && ln /workspace/over-hard/a.txt /workspace/over-hard/b.txt'
            Invoke-SandboxCommand -Sandbox $sandbox 'stat -c %h /workspace/over-hard/b.txt' | Should -Be '2'
            $case = New-LinkedDestination 'over-hard' 'b.txt'
            Copy-Out 'over-hard' $case.Dest | Should -BeNullOrEmpty
            Get-OutsideSnapshot $case.Outside | Should -Be $case.Before
            (Get-Item -LiteralPath $case.Link).LinkTarget | Should -BeNullOrEmpty
            Get-Content -LiteralPath $case.Link | Should -Be 'from-sandbox'
        }

        It 'a hard-link entry replaces a destination file that is a hard link to a file outside, rather than rewriting their shared content' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-shared && echo from-sandbox > /workspace/over-shared/a.txt && ln /workspace/over-shared/a.txt /workspace/over-shared/b.txt'
            $case = New-LinkedDestination 'over-shared' 'placeholder'
            $shared = Join-Path $case.Dest 'over-shared/b.txt'
            $null = New-Item -ItemType HardLink -Path $shared -Target (Join-Path $case.Outside 'victim')
            Copy-Out 'over-shared' $case.Dest | Should -BeNullOrEmpty
            Get-OutsideSnapshot $case.Outside | Should -Be $case.Before
            Get-Content -LiteralPath $shared | Should -Be 'from-sandbox'
        }

        It 'a symbolic-link entry replaces the link with its own' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-symlink && echo from-sandbox > /workspace/over-symlink/a.txt && ln -s a.txt /workspace/over-symlink/link'
            $case = New-LinkedDestination 'over-symlink' 'link'
            Copy-Out 'over-symlink' $case.Dest | Should -BeNullOrEmpty
            Get-OutsideSnapshot $case.Outside | Should -Be $case.Before
            (Get-Item -LiteralPath $case.Link).LinkTarget | Should -Be 'a.txt'
            Get-Content -LiteralPath $case.Link | Should -Be 'from-sandbox'
        }

        It 'a folder entry replaces a link to a folder outside, and its files land in the destination' {
            Invoke-SandboxCommand -Sandbox $sandbox 'mkdir -p /workspace/over-folder/sub && echo from-sandbox > /workspace/over-folder/sub/inner.txt'
            $case = New-LinkedDestination 'over-folder' 'sub' -ToFolder
            Copy-Out 'over-folder' $case.Dest | Should -BeNullOrEmpty
            Get-OutsideSnapshot $case.Outside | Should -Be $case.Before
            $folder = Get-Item -LiteralPath $case.Link
            $folder.LinkTarget | Should -BeNullOrEmpty
            $folder | Should -BeOfType [IO.DirectoryInfo]
            Get-Content -LiteralPath (Join-Path $case.Link 'inner.txt') | Should -Be 'from-sandbox'
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
