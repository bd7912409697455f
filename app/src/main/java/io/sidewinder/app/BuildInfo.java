package io.sidewinder.app;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version and commit this build was made from (build.properties, filled in by Maven): provenance and --version. */
public final class BuildInfo {
    private BuildInfo() {}

    private static final String VERSION = read();

    private static String read() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.contains("${") ? "unknown" : v;   // not filtered: built outside Maven
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** e.g. {@code 0.1.0-SNAPSHOT+981cb8b68e65}; the commit part is "unknown" when built outside a git checkout. */
    public static String version() {
        return VERSION;
    }
}
