package dev.gantry.store.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.Uploads.Entry;
import dev.gantry.store.artifact.Uploads.Staged;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Archives built to escape the version directory, plant links or fill the disk: each is refused by name. */
class HostileBundleTest {
    private static final byte[] MODEL = Uploads.onnx(7, 2_000);
    private static final long BOMB_BYTES = 50L << 20;

    @TempDir
    Path root;

    private ArtifactException refused(byte[] bundle, ArtifactLimits limits) {
        ArtifactStore store = ArtifactStore.inRepository(root, limits);
        Staged upload = Uploads.stage(store, bundle);
        return assertThrows(ArtifactException.class, () -> store.install("m", 1, upload.file(), upload.sha256()));
    }

    /** Whatever was refused, nothing is left behind: no version, no half-built directory, no upload. */
    @AfterEach
    void leavesNothingBehind() throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> files = walk.filter(Files::isRegularFile).toList();
            assertEquals(List.of(), files);
        }
        assertFalse(Files.exists(root.resolve("m")));
    }

    static Stream<Arguments> unsafeEntries() {
        return Stream.of(
                Arguments.of("parent segment", Entry.file("../evil", "x"), "'../evil' has a '..' segment"),
                Arguments.of("nested parent segment", Entry.file("a/../../evil", "x"), "'a/../../evil' has a '..'"),
                Arguments.of("absolute path", Entry.file("/abs", "x"), "'/abs' is an absolute path"),
                Arguments.of("drive letter", Entry.file("C:evil", "x"), "'C:evil' starts with a drive letter"));
    }

    @ParameterizedTest(name = "tar.gz {0}")
    @MethodSource("unsafeEntries")
    void tarGz_unsafeName_isRefusedNamingTheEntry(String kind, Entry entry, String message) {
        ArtifactException e = refused(Uploads.tarGz(List.of(Entry.file("model.onnx", MODEL), entry)),
                ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @ParameterizedTest(name = "zip {0}")
    @MethodSource("unsafeEntries")
    void zip_unsafeName_isRefusedNamingTheEntry(String kind, Entry entry, String message) {
        ArtifactException e = refused(Uploads.jdkZip(List.of(Entry.file("model.onnx", MODEL), entry)),
                ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void tarGz_backslashInAName_isRefusedNamingTheEntry() {
        ArtifactException e = refused(Uploads.tarGz(List.of(Entry.file("model.onnx", MODEL),
                Entry.file("..\\evil", "x"))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle entry '..\\evil' has a backslash in its name", e.getMessage());
    }

    /** Commons Compress reads '\\' as the separator in a zip name without '/' (old Windows zippers). */
    @Test
    void zip_backslashAsTheOnlySeparator_isReadAsASeparatorAndThenChecked() {
        ArtifactException e = refused(Uploads.jdkZip(List.of(Entry.file("model.onnx", MODEL),
                Entry.file("..\\evil", "x"))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle entry '../evil' has a '..' segment", e.getMessage());
    }

    @Test
    void zip_backslashBesideSlashes_isRefusedNamingTheEntry() {
        ArtifactException e = refused(Uploads.jdkZip(List.of(Entry.file("model.onnx", MODEL),
                Entry.file("tokenizer/..\\..\\evil", "x"))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle entry 'tokenizer/..\\..\\evil' has a backslash in its name", e.getMessage());
    }

    @Test
    void tarGz_nameSegmentLongerThanAFileSystemAllows_isInvalid() {
        String name = "vocab-" + "x".repeat(250) + ".txt";
        ArtifactException e = refused(Uploads.tarGz(List.of(Entry.file("model.onnx", MODEL),
                Entry.file(name, "x"))), ArtifactLimits.defaults());

        assertEquals(Reason.INVALID, e.reason());
        assertEquals("bundle entry '" + name + "' has a name segment longer than 255 bytes", e.getMessage());
    }

    static Stream<Arguments> specialTarEntries() {
        return Stream.of(
                Arguments.of(TarArchiveEntry.LF_SYMLINK, "/etc/passwd",
                        "bundle entry 'tokenizer.json' is a symbolic link (to '/etc/passwd')"),
                Arguments.of(TarArchiveEntry.LF_LINK, "model.onnx",
                        "bundle entry 'tokenizer.json' is a hard link (to 'model.onnx')"),
                Arguments.of(TarArchiveEntry.LF_CHR, null, "bundle entry 'tokenizer.json' is a character device"),
                Arguments.of(TarArchiveEntry.LF_BLK, null, "bundle entry 'tokenizer.json' is a block device"),
                Arguments.of(TarArchiveEntry.LF_FIFO, null, "bundle entry 'tokenizer.json' is a FIFO"));
    }

    @ParameterizedTest(name = "tar type {0}")
    @MethodSource("specialTarEntries")
    void tarGz_entryThatIsNotAFileOrDirectory_isRefusedNamingTheEntry(byte type, String link, String message) {
        ArtifactException e = refused(Uploads.tarGz(List.of(
                Entry.file("model.onnx", MODEL),
                Entry.tarSpecial("tokenizer.json", type, link))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void tarGz_symlinkThenFileThroughIt_isRefusedAtTheLink() {
        ArtifactException e = refused(Uploads.tarGz(List.of(
                Entry.tarSpecial("escape", TarArchiveEntry.LF_SYMLINK, "/tmp"),
                Entry.file("escape/model.onnx", MODEL))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().startsWith("bundle entry 'escape' is a symbolic link"), e.getMessage());
    }

    @Test
    void tarGz_duplicateName_isRefusedNamingBoth() {
        ArtifactException e = refused(Uploads.tarGz(List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file("./model.onnx", Uploads.onnx(8, 2_000)))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle entry './model.onnx' is a duplicate of 'model.onnx'", e.getMessage());
    }

    @Test
    void zip_duplicateName_isRefusedNamingBoth() {
        ArtifactException e = refused(Uploads.zip(List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file("card.json", "{}"),
                Entry.file("card.json", "{}"))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle entry 'card.json' is a duplicate of 'card.json'", e.getMessage());
    }

    @Test
    void zip_namesDifferingOnlyInCase_areRefusedAsDuplicates() {
        ArtifactException e = refused(Uploads.zip(List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file("Model.onnx", MODEL))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle entry 'Model.onnx' is a duplicate of 'model.onnx'", e.getMessage());
    }

    @Test
    void tarGz_fileThenDirectoryOfTheSameName_isRefused() {
        ArtifactException e = refused(Uploads.tarGz(List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file("vocab", "x"),
                Entry.file("vocab/words.txt", "y"))), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().startsWith("bundle entry 'vocab/words.txt' clashes with entry 'vocab'"),
                e.getMessage());
    }

    @Test
    void tarGz_bomb_isRefusedBeforeItIsExpanded() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
            TarArchiveEntry entry = new TarArchiveEntry("model.onnx");
            entry.setSize(BOMB_BYTES);
            tar.putArchiveEntry(entry);
            tar.write(new byte[] {0x08, 0x09});
            Uploads.zeros(tar, BOMB_BYTES - 2);
            tar.closeArchiveEntry();
        }

        ArtifactException e = refused(bytes.toByteArray(), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().contains("refused as a decompression bomb"), e.getMessage());
    }

    @Test
    void zip_bomb_isRefusedBeforeItIsExpanded() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("model.onnx"));
            zip.write(new byte[] {0x08, 0x09});
            Uploads.zeros(zip, BOMB_BYTES - 2);
            zip.closeEntry();
        }

        ArtifactException e = refused(bytes.toByteArray(), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().contains("refused as a decompression bomb"), e.getMessage());
        long stoppedAt = Long.parseLong(e.getMessage().replaceAll(".*\\((\\d+) bytes so far\\).*", "$1"));
        assertTrue(stoppedAt < BOMB_BYTES / 4, "stopped after " + stoppedAt + " bytes");
    }

    @Test
    void zip_bombHiddenInASkippedEntry_isStillCounted() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("__MACOSX/._model.onnx"));
            Uploads.zeros(zip, BOMB_BYTES);
            zip.closeEntry();
        }

        ArtifactException e = refused(bytes.toByteArray(), ArtifactLimits.defaults());

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertTrue(e.getMessage().contains("refused as a decompression bomb"), e.getMessage());
    }

    @Test
    void tarGz_expandingPastMaxExpandedBytes_isTooLarge() {
        ArtifactLimits limits = new ArtifactLimits(1 << 20, 10_000, 100, 100);

        ArtifactException e = refused(Uploads.tarGz(List.of(Entry.file("model.onnx", Uploads.onnx(1, 20_000)))),
                limits);

        assertEquals(Reason.TOO_LARGE, e.reason());
        assertEquals("bundle expands to more than 10000 bytes", e.getMessage());
    }

    @Test
    void zip_moreEntriesThanAllowed_isRefused() {
        List<Entry> entries = new ArrayList<>(List.of(Entry.file("model.onnx", MODEL)));
        for (int i = 0; i < 5; i++) {
            entries.add(Entry.file("vocab-" + i + ".txt", "word"));
        }

        ArtifactException e = refused(Uploads.zip(entries), new ArtifactLimits(1 << 20, 1 << 20, 5, 100));

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle has more than 5 entries (stopped at 'vocab-4.txt')", e.getMessage());
    }

    @Test
    void tarGz_moreEntriesThanAllowed_isRefused() {
        List<Entry> entries = new ArrayList<>(List.of(Entry.file("model.onnx", MODEL)));
        for (int i = 0; i < 5; i++) {
            entries.add(Entry.directory("d" + i + "/"));
        }

        ArtifactException e = refused(Uploads.tarGz(entries), new ArtifactLimits(1 << 20, 1 << 20, 5, 100));

        assertEquals(Reason.UNSAFE_ARCHIVE, e.reason());
        assertEquals("bundle has more than 5 entries (stopped at 'd4/')", e.getMessage());
    }
}
