// Relaxes one symbol-version requirement of an ELF shared library: sets VER_FLG_WEAK on an Elf64_Vernaux entry.
//
// Why: TorchSharp 0.107.0's native shim libLibTorchSharp.so was built with GCC 13 and requires GLIBCXX_3.4.32 from
// libstdc++.so.6, only for _ZSt21ios_base_library_initv, a symbol GCC 13's <iostream> references but nothing calls.
// Debian 12 / Ubuntu 22.04 ship GCC 12's libstdc++ (up to GLIBCXX_3.4.30), so the shim fails to load there with
// "version `GLIBCXX_3.4.32' not found". glibc's loader tolerates a missing version whose requirement is WEAK, so
// setting that one flag (two bytes) in the COPY in the build output is enough.
//
// This file is compiled twice, its types internal to each assembly:
//  * by MSBuild's RoslynCodeTaskFactory (build/TorchSharpGlibcxxFix.targets, <Code Type="Class" Source=...>), against
//    netstandard 2.0 reference assemblies and without implicit usings: keep it to netstandard 2.0 APIs;
//  * into the bridge, src/GradientDescent.Autodiff.Torch, with ELF_VERSION_PATCHER_LIBRARY_ONLY defined, which leaves
//    out the MSBuild task class: TorchNativeLoader uses it at run time to load a relaxed copy of the shim when the
//    output's copy was not patched by the build (a user's own project, the NuGet package). The tests see it there.
//
// ELF layout used (System V gABI and the LSB "Symbol Versioning" chapter; 64-bit little-endian only):
//   Elf64_Ehdr:   e_ident[16] (magic 7F 'E' 'L' 'F', [4] EI_CLASS = 2 (64-bit), [5] EI_DATA = 1 (little-endian)),
//                 e_shoff u64 @40, e_shentsize u16 @58, e_shnum u16 @60.
//   Elf64_Shdr:   sh_type u32 @4, sh_offset u64 @24, sh_size u64 @32, sh_link u32 @40, sh_info u32 @44 (64 bytes).
//   Elf64_Verneed (SHT_GNU_verneed sections, sh_info entries, names in string table sh_link):
//                 vn_version u16 @0, vn_cnt u16 @2, vn_file u32 @4, vn_aux u32 @8, vn_next u32 @12.
//   Elf64_Vernaux: vna_hash u32 @0, vna_flags u16 @4, vna_other u16 @6, vna_name u32 @8, vna_next u32 @12.
//   Elf64_Verdef (SHT_GNU_verdef): vd_cnt u16 @6, vd_aux u32 @12, vd_next u32 @16; first Elf64_Verdaux: vda_name u32 @0.
//   Elf64_Dyn (SHT_DYNAMIC sections, 16 bytes, names in string table sh_link): d_tag i64 @0, d_val u64 @8;
//                 DT_NULL = 0 ends the array, DT_NEEDED = 1 names a needed library.
#nullable enable

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace GradientDescent.Build
{
    /// <summary>The bytes are not an ELF file this patcher understands (not ELF64 little-endian, or inconsistent).</summary>
    internal sealed class ElfFormatException : Exception
    {
        public ElfFormatException(string message)
            : base(message)
        {
        }
    }

    /// <summary>One Elf64_Vernaux entry: "this object needs version <see cref="Version"/> of <see cref="File"/>".</summary>
    internal sealed class ElfVersionRequirement
    {
        public ElfVersionRequirement(string file, string version, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The needed library, e.g. <c>libstdc++.so.6</c> (vn_file).</summary>
        public string File { get; }

        /// <summary>The needed version, e.g. <c>GLIBCXX_3.4.32</c> (vna_name).</summary>
        public string Version { get; }

        /// <summary>vna_flags.</summary>
        public ushort Flags { get; }

        /// <summary>File offset of the two-byte vna_flags field.</summary>
        public long FlagsOffset { get; }

        public bool IsWeak => (Flags & ElfVersionPatcher.VerFlagWeak) != 0;
    }

    internal enum ElfPatchOutcome
    {
        /// <summary>The requirement was strong and has been made weak.</summary>
        Patched,

        /// <summary>The requirement was already weak; the file was not written.</summary>
        AlreadyWeak,

        /// <summary>The file has no such requirement; the file was not written.</summary>
        NotRequired,
    }

    internal sealed class ElfPatchResult
    {
        public ElfPatchResult(ElfPatchOutcome outcome, IReadOnlyList<ElfVersionRequirement> requirements)
        {
            Outcome = outcome;
            Requirements = requirements;
        }

        public ElfPatchOutcome Outcome { get; }

        /// <summary>All version requirements of the file as they are after the call.</summary>
        public IReadOnlyList<ElfVersionRequirement> Requirements { get; }
    }

    internal static class ElfVersionPatcher
    {
        public const uint ShtGnuVerdef = 0x6ffffffd;
        public const uint ShtGnuVerneed = 0x6ffffffe;
        public const ushort VerFlagWeak = 0x2;

        private const int ElfHeaderSize = 64;
        private const int SectionHeaderSize = 64;
        private const int VerneedSize = 16;
        private const int VernauxSize = 16;
        private const int VerdefSize = 20;
        private const int VerdauxSize = 8;

        /// <summary>Reads every Elf64_Vernaux entry, walking the vn_next / vna_next chains.</summary>
        public static IReadOnlyList<ElfVersionRequirement> ReadVersionRequirements(byte[] elf)
        {
            if (elf is null)
            {
                throw new ArgumentNullException(nameof(elf));
            }

            var result = new List<ElfVersionRequirement>();
            List<Section> sections = ReadSections(elf);
            foreach (Section section in sections)
            {
                if (section.Type != ShtGnuVerneed)
                {
                    continue;
                }

                Section strings = LinkedStringTable(sections, section, ".gnu.version_r");
                long entry = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    RequireInside(section, entry, VerneedSize, "Elf64_Verneed");
                    ushort auxCount = ReadU16(elf, entry + 2);
                    string file = ReadString(elf, strings, ReadU32(elf, entry + 4));
                    long aux = entry + ReadU32(elf, entry + 8);
                    for (int j = 0; j < auxCount; j++)
                    {
                        RequireInside(section, aux, VernauxSize, "Elf64_Vernaux");
                        ushort flags = ReadU16(elf, aux + 4);
                        string version = ReadString(elf, strings, ReadU32(elf, aux + 8));
                        result.Add(new ElfVersionRequirement(file, version, flags, aux + 4));
                        uint nextAux = ReadU32(elf, aux + 12);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        aux += nextAux;
                    }

                    uint next = ReadU32(elf, entry + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            return result;
        }

        /// <summary>Reads the version names an object defines (first Elf64_Verdaux of each Elf64_Verdef).</summary>
        public static IReadOnlyList<string> ReadVersionDefinitions(byte[] elf)
        {
            if (elf is null)
            {
                throw new ArgumentNullException(nameof(elf));
            }

            var result = new List<string>();
            List<Section> sections = ReadSections(elf);
            foreach (Section section in sections)
            {
                if (section.Type != ShtGnuVerdef)
                {
                    continue;
                }

                Section strings = LinkedStringTable(sections, section, ".gnu.version_d");
                long entry = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    RequireInside(section, entry, VerdefSize, "Elf64_Verdef");
                    if (ReadU16(elf, entry + 6) > 0)
                    {
                        long aux = entry + ReadU32(elf, entry + 12);
                        RequireInside(section, aux, VerdauxSize, "Elf64_Verdaux");
                        result.Add(ReadString(elf, strings, ReadU32(elf, aux)));
                    }

                    uint next = ReadU32(elf, entry + 16);
                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            return result;
        }

        /// <summary>The libraries the object needs (DT_NEEDED entries of its dynamic section), in order.</summary>
        public static IReadOnlyList<string> ReadNeededLibraries(byte[] elf)
        {
            if (elf is null)
            {
                throw new ArgumentNullException(nameof(elf));
            }

            const uint ShtDynamic = 6;
            const int DynSize = 16;
            var result = new List<string>();
            List<Section> sections = ReadSections(elf);
            foreach (Section section in sections)
            {
                if (section.Type != ShtDynamic)
                {
                    continue;
                }

                Section strings = LinkedStringTable(sections, section, ".dynamic");
                for (long entry = section.Offset; entry + DynSize <= section.Offset + section.Size; entry += DynSize)
                {
                    ulong tag = ReadU64(elf, entry);
                    if (tag == 0)
                    {
                        break;
                    }

                    if (tag == 1)
                    {
                        ulong name = ReadU64(elf, entry + 8);
                        if (name > uint.MaxValue)
                        {
                            throw new ElfFormatException("DT_NEEDED string index " + name + " outside its string table");
                        }

                        result.Add(ReadString(elf, strings, (uint)name));
                    }
                }
            }

            return result;
        }

        /// <summary>The requirement for <paramref name="version"/> of <paramref name="library"/>, or null.</summary>
        public static ElfVersionRequirement? FindRequirement(byte[] elf, string library, string version) =>
            Find(ReadVersionRequirements(elf), library, version);

        /// <summary>
        /// Sets VER_FLG_WEAK on the requirement in memory. Returns true if it changed the buffer, false if the flag was
        /// already set (idempotent). Throws <see cref="ElfFormatException"/> if the ELF cannot be parsed or has no such
        /// requirement.
        /// </summary>
        public static bool MakeRequirementWeak(byte[] elf, string library, string version)
        {
            ElfVersionRequirement requirement = FindRequirement(elf, library, version)
                ?? throw new ElfFormatException(
                    "no version requirement " + version + " for " + library + " in .gnu.version_r");
            if (requirement.IsWeak)
            {
                return false;
            }

            ushort flags = (ushort)(requirement.Flags | VerFlagWeak);
            elf[requirement.FlagsOffset] = (byte)flags;
            elf[requirement.FlagsOffset + 1] = (byte)(flags >> 8);
            return true;
        }

        /// <summary>
        /// Makes the requirement weak in the file at <paramref name="path"/> if it is strong. Never writes through an
        /// existing inode (which might be a hard link into the NuGet cache, or a symlink target): it copies the file to
        /// a fresh temporary file in the same directory, patches and checks that, keeps the original's timestamp (so
        /// MSBuild's size+timestamp "unchanged" check does not copy the unpatched file back on the next build), and
        /// atomically renames it over <paramref name="path"/>.
        /// </summary>
        public static ElfPatchResult MakeRequirementWeakInFile(string path, string library, string version)
        {
            byte[] original = File.ReadAllBytes(path);
            IReadOnlyList<ElfVersionRequirement> requirements = ReadVersionRequirements(original);
            ElfVersionRequirement? requirement = Find(requirements, library, version);
            if (requirement is null)
            {
                return new ElfPatchResult(ElfPatchOutcome.NotRequired, requirements);
            }

            if (requirement.IsWeak)
            {
                return new ElfPatchResult(ElfPatchOutcome.AlreadyWeak, requirements);
            }

            byte[] patched = (byte[])original.Clone();
            MakeRequirementWeak(patched, library, version);
            string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            string temporary = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                // File.Copy creates a new inode even when 'path' is a link, and (on .NET, Unix) keeps the permissions and
                // the timestamp of the file's content. Read the timestamp from the copy: for a symlink, File's timestamp
                // getters report the link itself.
                File.Copy(path, temporary, overwrite: false);
                DateTime lastWrite = File.GetLastWriteTimeUtc(temporary);
                using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    stream.Position = requirement.FlagsOffset;
                    stream.Write(patched, (int)requirement.FlagsOffset, 2);
                    stream.Flush(flushToDisk: true);
                }

                // The copy must be exactly the parsed bytes plus the flag (guards against the file changing meanwhile).
                byte[] written = File.ReadAllBytes(temporary);
                if (!BytesEqual(written, patched))
                {
                    throw new IOException("the patched copy " + temporary + " differs from the expected bytes; did " + path + " change during the build?");
                }

                File.SetLastWriteTimeUtc(temporary, lastWrite);
                File.Replace(temporary, path, destinationBackupFileName: null);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }

            return new ElfPatchResult(ElfPatchOutcome.Patched, ReadVersionRequirements(patched));
        }

        /// <summary>
        /// The library the dynamic loader would normally find for <paramref name="soname"/> in the default directories
        /// (multiarch first, as on Debian/Ubuntu, then lib64, then lib), or null.
        /// </summary>
        public static string? FindSystemLibrary(string soname)
        {
            var directories = new List<string>();
            string? triplet = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x86_64-linux-gnu",
                Architecture.Arm64 => "aarch64-linux-gnu",
                _ => null,
            };
            if (triplet != null)
            {
                directories.Add("/usr/lib/" + triplet);
                directories.Add("/lib/" + triplet);
            }

            directories.AddRange(new[] { "/usr/lib64", "/lib64", "/usr/lib", "/lib" });
            foreach (string directory in directories)
            {
                string candidate = Path.Combine(directory, soname);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private static bool BytesEqual(byte[] a, byte[] b)
        {
            if (a.Length != b.Length)
            {
                return false;
            }

            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i])
                {
                    return false;
                }
            }

            return true;
        }

        private static ElfVersionRequirement? Find(IReadOnlyList<ElfVersionRequirement> requirements, string library, string version)
        {
            foreach (ElfVersionRequirement requirement in requirements)
            {
                if (requirement.File == library && requirement.Version == version)
                {
                    return requirement;
                }
            }

            return null;
        }

        private readonly struct Section
        {
            public Section(int index, uint type, long offset, long size, uint link, uint info)
            {
                Index = index;
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public int Index { get; }

            public uint Type { get; }

            public long Offset { get; }

            public long Size { get; }

            public uint Link { get; }

            public uint Info { get; }
        }

        private static List<Section> ReadSections(byte[] elf)
        {
            if (elf.Length < ElfHeaderSize || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new ElfFormatException("not an ELF file (no 7F 'E' 'L' 'F' header)");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new ElfFormatException(
                    "unsupported ELF class/encoding (EI_CLASS=" + elf[4] + ", EI_DATA=" + elf[5] + "; need 64-bit little-endian)");
            }

            ulong sectionHeaders = ReadU64(elf, 40);
            ushort entrySize = ReadU16(elf, 58);
            long count = ReadU16(elf, 60);
            if (sectionHeaders == 0)
            {
                throw new ElfFormatException("no section header table (e_shoff = 0)");
            }

            if (entrySize != SectionHeaderSize)
            {
                throw new ElfFormatException("unexpected section header size e_shentsize=" + entrySize);
            }

            if (sectionHeaders > (ulong)elf.Length)
            {
                throw new ElfFormatException("section header table offset beyond end of file");
            }

            if (count == 0)
            {
                // Extended numbering: the real count is in sh_size of section 0.
                ulong extended = ReadU64(elf, (long)sectionHeaders + 32);
                if (extended > (ulong)elf.Length / SectionHeaderSize)
                {
                    throw new ElfFormatException("section count " + extended + " does not fit in the file");
                }

                count = (long)extended;
            }

            if ((long)sectionHeaders + (count * SectionHeaderSize) > elf.Length)
            {
                throw new ElfFormatException("section header table runs past end of file");
            }

            var sections = new List<Section>((int)count);
            for (int i = 0; i < count; i++)
            {
                long header = (long)sectionHeaders + ((long)i * SectionHeaderSize);
                uint type = ReadU32(elf, header + 4);
                ulong offset = ReadU64(elf, header + 24);
                ulong size = ReadU64(elf, header + 32);
                const uint ShtNobits = 8;
                if (type != ShtNobits && type != 0 && (offset > (ulong)elf.Length || size > (ulong)elf.Length - offset))
                {
                    throw new ElfFormatException("section " + i + " (type 0x" + type.ToString("x") + ") lies outside the file");
                }

                sections.Add(new Section(i, type, (long)offset, (long)size, ReadU32(elf, header + 40), ReadU32(elf, header + 44)));
            }

            return sections;
        }

        private static Section LinkedStringTable(List<Section> sections, Section section, string what)
        {
            const uint ShtStrtab = 3;
            if (section.Link == 0 || section.Link >= sections.Count || sections[(int)section.Link].Type != ShtStrtab)
            {
                throw new ElfFormatException(
                    what + " (section " + section.Index + ") has sh_link=" + section.Link + ", which is not a string table");
            }

            return sections[(int)section.Link];
        }

        private static void RequireInside(Section section, long offset, int size, string what)
        {
            if (offset < section.Offset || offset + size > section.Offset + section.Size)
            {
                throw new ElfFormatException(
                    what + " at offset 0x" + offset.ToString("x") + " lies outside its section " + section.Index);
            }
        }

        private static string ReadString(byte[] elf, Section table, uint index)
        {
            if (index >= table.Size)
            {
                throw new ElfFormatException("string index " + index + " outside string table section " + table.Index);
            }

            long start = table.Offset + index;
            long end = start;
            long limit = table.Offset + table.Size;
            while (end < limit && elf[end] != 0)
            {
                end++;
            }

            if (end == limit)
            {
                throw new ElfFormatException("unterminated string in string table section " + table.Index);
            }

            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        private static void RequireBytes(byte[] elf, long offset, int size)
        {
            if (offset < 0 || offset > elf.Length - size)
            {
                throw new ElfFormatException("read of " + size + " bytes at offset 0x" + offset.ToString("x") + " past end of file");
            }
        }

        private static ushort ReadU16(byte[] elf, long offset)
        {
            RequireBytes(elf, offset, 2);
            return (ushort)(elf[offset] | (elf[offset + 1] << 8));
        }

        private static uint ReadU32(byte[] elf, long offset)
        {
            RequireBytes(elf, offset, 4);
            return elf[offset] | ((uint)elf[offset + 1] << 8) | ((uint)elf[offset + 2] << 16) | ((uint)elf[offset + 3] << 24);
        }

        private static ulong ReadU64(byte[] elf, long offset)
        {
            return ReadU32(elf, offset) | ((ulong)ReadU32(elf, offset + 4) << 32);
        }
    }
}

#if !ELF_VERSION_PATCHER_LIBRARY_ONLY
namespace GradientDescent.Build
{
    using Microsoft.Build.Framework;
    using Microsoft.Build.Utilities;

    /// <summary>
    /// MSBuild task: makes the GLIBCXX_3.4.32 requirement of each given libLibTorchSharp.so weak, unless this is not
    /// Linux or the system libstdc++ already defines that version. Errors name the file, the cause and what to do.
    /// </summary>
    public sealed class TorchSharpGlibcxxFix : Task
    {
        private const string ErrorCode = "TORCHGLIBCXX";

        [Required]
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        public string LibraryName { get; set; } = "libstdc++.so.6";

        public string VersionName { get; set; } = "GLIBCXX_3.4.32";

        [Output]
        public ITaskItem[] PatchedFiles { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                Log.LogMessage(MessageImportance.Low, "TorchSharpGlibcxxFix: not Linux; nothing to do.");
                return true;
            }

            string? systemLibrary = ElfVersionPatcher.FindSystemLibrary(LibraryName);
            HashSet<string>? systemVersions = null;
            if (systemLibrary is null)
            {
                Log.LogMessage(MessageImportance.Normal, "TorchSharpGlibcxxFix: no system {0} found; relaxing {1} anyway (harmless).", LibraryName, VersionName);
            }
            else
            {
                try
                {
                    systemVersions = new HashSet<string>(ElfVersionPatcher.ReadVersionDefinitions(File.ReadAllBytes(systemLibrary)));
                }
                catch (Exception e) when (e is ElfFormatException || e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogMessage(MessageImportance.Normal, "TorchSharpGlibcxxFix: cannot read the versions of {0} ({1}); relaxing {2} anyway (harmless).", systemLibrary, e.Message, VersionName);
                }
            }

            if (systemVersions != null && systemVersions.Contains(VersionName))
            {
                Log.LogMessage(MessageImportance.Normal, "TorchSharpGlibcxxFix: {0} defines {1}; nothing to do.", systemLibrary, VersionName);
                return true;
            }

            string systemDescription = systemLibrary ?? ("no " + LibraryName + " in the default directories");
            var patched = new List<ITaskItem>();
            foreach (ITaskItem item in Files)
            {
                string path = item.GetMetadata("FullPath");
                var stopwatch = Stopwatch.StartNew();
                ElfPatchResult result;
                try
                {
                    result = ElfVersionPatcher.MakeRequirementWeakInFile(path, LibraryName, VersionName);
                }
                catch (Exception e) when (e is ElfFormatException || e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(
                        null, ErrorCode, null, path, 0, 0, 0, 0,
                        "Cannot make the {0} requirement of {1} weak: {2}. The system libstdc++ ({3}) lacks {0}, so TorchSharp "
                        + "will fail to load here with \"version `{0}' not found\". If TorchSharp was upgraded, check the file with "
                        + "'readelf -V' and adapt build/ElfVersionPatcher.cs; otherwise use a libstdc++ from GCC 13 or newer.",
                        VersionName, path, e.Message, systemDescription);
                    continue;
                }

                stopwatch.Stop();
                switch (result.Outcome)
                {
                    case ElfPatchOutcome.Patched:
                        Log.LogMessage(MessageImportance.High, "patched {0} requirement to weak in {1} ({2:F1} ms)", VersionName, path, stopwatch.Elapsed.TotalMilliseconds);
                        patched.Add(item);
                        break;
                    case ElfPatchOutcome.AlreadyWeak:
                        Log.LogMessage(MessageImportance.Normal, "TorchSharpGlibcxxFix: {0} requirement already weak in {1} ({2:F1} ms)", VersionName, path, stopwatch.Elapsed.TotalMilliseconds);
                        break;
                    default:
                        Log.LogMessage(MessageImportance.Normal, "TorchSharpGlibcxxFix: {0} does not require {1}; nothing to patch.", path, VersionName);
                        break;
                }

                // Anything else the system libstdc++ lacks would still stop the load: say so now, not at test time.
                if (systemVersions != null)
                {
                    var missing = new List<string>();
                    foreach (ElfVersionRequirement requirement in result.Requirements)
                    {
                        if (requirement.File == LibraryName && !requirement.IsWeak && !systemVersions.Contains(requirement.Version))
                        {
                            missing.Add(requirement.Version);
                        }
                    }

                    if (missing.Count > 0)
                    {
                        Log.LogError(
                            null, ErrorCode, null, path, 0, 0, 0, 0,
                            "{0} also requires {1} from {2}, which the system libstdc++ ({3}) does not define. This build step only "
                            + "relaxes {4} (proven harmless for TorchSharp 0.107.0), so TorchSharp will fail to load here. Use a "
                            + "libstdc++ from a newer GCC, or a TorchSharp version built against this one.",
                            path, string.Join(", ", missing), LibraryName, systemDescription, VersionName);
                    }
                }
            }

            PatchedFiles = patched.ToArray();
            return !Log.HasLoggedErrors;
        }
    }
}
#endif
