#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# What New-Sandbox does with the user's folder, and that the sandbox object says so in every session.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'wksp'

    function New-CodeFolder([string] $Name) {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive $Name)
        New-Item -ItemType Directory -Path (Join-Path $folder 'src') | Out-Null
        Set-Content -LiteralPath (Join-Path $folder 'src/main.sh') -Value 'echo original'
        Set-Content -LiteralPath (Join-Path $folder 'data.txt') -Value 'from the host'
        $folder
    }

    # Every file under the folder with its size, time and content hash: what "untouched" means.
    function Get-FolderSnapshot([string] $Path) {
        Get-ChildItem -LiteralPath $Path -Recurse -Force | Sort-Object FullName | ForEach-Object {
            $hash = if ($_.PSIsContainer) { 'dir' } else { (Get-FileHash -LiteralPath $_.FullName).Hash }
            '{0}|{1}|{2}' -f $_.FullName.Substring($Path.Length), $_.LastWriteTimeUtc.Ticks, $hash
        }
    }

    # Tries to change the folder from inside in every way: write, append, delete, rename, make a folder.
    $script:Vandalize = 'echo new > new.txt; echo more >> data.txt; rm -f src/main.sh; mv data.txt moved.txt; mkdir made'
}

AfterAll {
    Complete-SandboxTest
}

Describe 'The sandbox says how /workspace was made' {

    It 'says "mounted read-write from" and the folder, for -Path by default' {
        $code = New-CodeFolder 'rw'
        $sandbox = New-Sandbox -Name (New-TestName 'rw') -Path $code
        $sandbox.WorkspaceMode | Should -Be 'MountedReadWrite'
        $sandbox.Workspace | Should -Be "mounted read-write from $($code.FullName)"
        $sandbox.CodePath | Should -Be $code.FullName
        ((Get-ContainerInspect $sandbox.Id).Mounts | Where-Object Destination -EQ '/workspace').RW | Should -BeTrue
    }

    It 'says "copied from" and the folder, for -CopyPath and for -PathAccess Copy' {
        $code = New-CodeFolder 'copy'
        $copied = New-Sandbox -Name (New-TestName 'copy') -Path $code -CopyPath
        $copied.WorkspaceMode | Should -Be 'Copied'
        $copied.Workspace | Should -Be "copied from $($code.FullName)"
        $same = New-Sandbox -Name (New-TestName 'copy2') -Path $code -PathAccess Copy -CopyPath
        $same.WorkspaceMode | Should -Be 'Copied'
    }

    It 'says "empty" without a folder' {
        $sandbox = New-Sandbox -Name (New-TestName 'empty')
        $sandbox.WorkspaceMode | Should -Be 'Empty'
        $sandbox.Workspace | Should -Be 'empty'
        $sandbox.CodePath | Should -BeNullOrEmpty
    }

    It 'shows the workspace in the list view' {
        $code = New-CodeFolder 'listview'
        $sandbox = New-Sandbox -Name (New-TestName 'list') -Path $code -PathAccess ReadOnly
        $text = ($sandbox | Format-List | Out-String -Width 300) -split '\r?\n'
        $text | Where-Object { $_ -match '^Workspace\s+:' } | Should -Match ([regex]::Escape("mounted read-only from $($code.FullName)"))
    }

    It 'reads the same from labels in another pwsh, where Get-Sandbox finds it' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'xproc')
        $made = @(
            New-Sandbox -Name (New-TestName 'xrw') -Path (New-CodeFolder 'xrw')
            New-Sandbox -Name (New-TestName 'xro') -Path (New-CodeFolder 'xro') -PathAccess ReadOnly
            New-Sandbox -Name (New-TestName 'xcp') -Path (New-CodeFolder 'xcp') -CopyPath
            New-Sandbox -Name (New-TestName 'xno')
        )
        $report = Join-Path $work 'found.json'
        $names = ($made.Name | ForEach-Object { "'$_'" }) -join ','
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
Get-Sandbox -Name $names | Select-Object Name, WorkspaceMode, Workspace, CodePath | ConvertTo-Json | Set-Content -LiteralPath '$report'
"@
        $child.WaitForExit(60000) | Should -BeTrue
        $found = Get-Content -Raw -LiteralPath $report -ErrorAction SilentlyContinue | ConvertFrom-Json
        $found | Should -HaveCount 4 -Because "the child pwsh should list them: $(Get-ChildOutput $work)"
        foreach ($sandbox in $made) {
            $there = $found | Where-Object Name -EQ $sandbox.Name
            $there.WorkspaceMode | Should -Be $sandbox.WorkspaceMode
            $there.Workspace | Should -Be $sandbox.Workspace
            $there.CodePath | Should -Be $sandbox.CodePath
        }
        ($found | Where-Object Name -EQ $made[1].Name).WorkspaceMode | Should -Be 'MountedReadOnly'
        ($found | Where-Object Name -EQ $made[2].Name).Workspace | Should -BeLike 'copied from *xcp'
    }
}

Describe 'A read-only folder' {

    BeforeAll {
        $script:Code = New-CodeFolder 'readonly'
        $script:Before = Get-FolderSnapshot $Code
        $script:ReadOnlySandbox = New-Sandbox -Name (New-TestName 'ro') -Path $Code -PathAccess ReadOnly
    }

    It 'is mounted read-only at /workspace' {
        $mount = (Get-ContainerInspect $ReadOnlySandbox.Id).Mounts | Where-Object Destination -EQ '/workspace'
        $mount.Type | Should -Be 'bind'
        $mount.Source | Should -Be $Code.FullName
        $mount.RW | Should -BeFalse
        $ReadOnlySandbox.WorkspaceMode | Should -Be 'MountedReadOnly'
        $ReadOnlySandbox.Workspace | Should -Be "mounted read-only from $($Code.FullName)"
    }

    It 'can be read from inside, and shows changes made on the host' {
        $ReadOnlySandbox | Invoke-SandboxCommand 'cat data.txt; sh src/main.sh' | Should -Be 'from the host', 'original'
        Set-Content -LiteralPath (Join-Path $Code 'later.txt') -Value 'added on the host'
        $ReadOnlySandbox | Invoke-SandboxCommand 'cat later.txt' | Should -Be 'added on the host'
        Remove-Item -LiteralPath (Join-Path $Code 'later.txt')
        $script:Before = Get-FolderSnapshot $Code
    }

    It 'refuses every write from inside, as root too, and the folder stays untouched' {
        $result = $ReadOnlySandbox | Invoke-SandboxCommand "id -u; $Vandalize" -PassThru 2>$null 6>$null | Select-Object -Last 1
        $result.StdOut | Should -Match '^0\b' -Because 'the command runs as root, which a read-only mount still stops'
        $result.ExitCode | Should -Not -Be 0
        $result.StdErr | Should -Match 'Read-only file system'
        Get-FolderSnapshot $Code | Should -Be $Before
    }

    It 'with -ReadOnly leaves only /tmp writable' {
        $sandbox = New-Sandbox -Name (New-TestName 'rofs') -Path $Code -PathAccess ReadOnly -ReadOnly
        $sandbox | Invoke-SandboxCommand 'touch /workspace/x 2>/dev/null && echo workspace-writable; touch /etc/x 2>/dev/null && echo root-writable; touch /tmp/x && echo tmp-writable' |
            Should -Be 'tmp-writable'
        Get-FolderSnapshot $Code | Should -Be $Before
    }
}

Describe 'A copied folder' {

    It 'stays untouched whatever the sandbox does in /workspace' {
        $code = New-CodeFolder 'copied-untouched'
        $before = Get-FolderSnapshot $code
        $sandbox = New-Sandbox -Name (New-TestName 'cpu') -Path $code -CopyPath
        $sandbox | Invoke-SandboxCommand "cat data.txt; $Vandalize; ls" | Should -Contain 'from the host'
        $sandbox | Invoke-SandboxCommand 'cat moved.txt' | Should -Be 'from the host', 'more'
        Get-FolderSnapshot $code | Should -Be $before
    }
}

Describe 'A folder on a remote engine' {

    BeforeAll {
        Assert-TestEndpoint Tls
    }

    It 'is copied even with -PathAccess ReadOnly, which -Verbose and the sandbox say, and stays untouched' {
        $code = New-CodeFolder 'remote'
        $before = Get-FolderSnapshot $code
        $name = New-TestName 'remote'
        $all = Use-TestEndpoint Tls { New-Sandbox -Name $name -Path $code -PathAccess ReadOnly -Verbose 4>&1 }
        $sandbox = $all | Where-Object { $_ -is [Sandbox.Sandbox] }
        try {
            $sandbox.WorkspaceMode | Should -Be 'Copied'
            $sandbox.Workspace | Should -Be "copied from $($code.FullName)"
            $verbose = ($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) -join ' | '
            $verbose | Should -Match 'remote engine.*is copied in instead'
            Use-TestEndpoint Tls { $sandbox | Invoke-SandboxCommand "$Vandalize; cat moved.txt" 2>$null 6>$null } | Should -Be 'from the host', 'more'
            Get-FolderSnapshot $code | Should -Be $before
        }
        finally {
            Use-TestEndpoint Tls { $sandbox | Stop-Sandbox }
        }
    }
}

Describe 'Contradictory or useless folder settings' {

    It 'refuses -CopyPath with -PathAccess <Access> and makes nothing' -TestCases @(
        @{ Access = 'ReadOnly' }, @{ Access = 'ReadWrite' }
    ) {
        $name = New-TestName 'conflict'
        $err = { New-Sandbox -Name $name -Path (New-CodeFolder "conflict-$Access") -CopyPath -PathAccess $Access -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingPathAccess*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match '-CopyPath'
        $err.Exception.Message | Should -Match "-PathAccess $Access"
        Test-ContainerExists $name | Should -BeFalse
    }

    It 'refuses -PathAccess without a folder' {
        $name = New-TestName 'nofolder'
        { New-Sandbox -Name $name -PathAccess ReadOnly -ErrorAction Stop } | Should -Throw -ErrorId 'PathRequired*'
        Test-ContainerExists $name | Should -BeFalse
    }

    It 'refuses -PathAccess with -Build, whose code is in the image' {
        { New-Sandbox -Path (New-CodeFolder 'build') -Build -PathAccess ReadOnly -ErrorAction Stop } | Should -Throw -ErrorId 'BuildWithCopyPath*'
    }
}

Describe '-ProjectId without -Path' {

    It 'says which folder it made, and the sandbox says it is the project folder' {
        $here = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'cwd')
        $project = New-TestProjectId 'pf'
        Push-Location -LiteralPath $here
        try {
            $sandbox = New-Sandbox -ProjectId $project -Verbose 4>&1 | Tee-Object -Variable all | Where-Object { $_ -is [Sandbox.Sandbox] }
        }
        finally { Pop-Location }
        $folder = Join-Path $here.FullName "projects/$project"
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose | Where-Object { $_ -like "*'$folder'*" -and $_ -like '*made just now*' } | Should -Not -BeNullOrEmpty -Because "the verbose stream names the folder: $($verbose -join ' | ')"
        Test-Path -LiteralPath $folder -PathType Container | Should -BeTrue
        $sandbox.WorkspaceMode | Should -Be 'MountedReadWrite'
        $sandbox.Workspace | Should -Be "mounted read-write from $folder (the folder of -ProjectId $project)"
        (Get-Sandbox -ProjectId $project).Workspace | Should -Be $sandbox.Workspace
    }
}

Describe 'Warm pools and the workspace' {

    It 'hand out sandboxes with an empty workspace, and never one for a folder' {
        $poolName = New-TestName 'pool'
        $null = Start-SandboxPool -Name $poolName -Size 1 -Wait
        try {
            $withFolder = New-Sandbox -Path (New-CodeFolder 'pooled') -PathAccess ReadOnly
            $withFolder.Pool | Should -BeNullOrEmpty -Because 'a sandbox for a folder is made for it'
            $withFolder.WorkspaceMode | Should -Be 'MountedReadOnly'
            $pooled = New-Sandbox
            $pooled.Pool | Should -Be $poolName
            $pooled.WorkspaceMode | Should -Be 'Empty'
            $pooled.Workspace | Should -Be 'empty'
        }
        finally { Stop-SandboxPool -Name $poolName }
    }
}
