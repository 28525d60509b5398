namespace Sandbox.Files
{
    public enum TarEntryType { File, Directory, Symlink, HardLink, Other }
}
