package dev.camelbatch.openaibatch.api;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/** A log4j2 appender registered programmatically on the root logger; keeps every formatted line and stack trace. */
final class LogCapture extends AbstractAppender implements AutoCloseable {

    private final List<String> lines = new ArrayList<>();
    private final List<String> levels = new ArrayList<>();

    private LogCapture() {
        super("capture-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY);
    }

    /** Starts capturing; the given loggers are set to the given level while capturing. */
    static LogCapture start(Level level, String... loggerNames) {
        LogCapture capture = new LogCapture();
        capture.start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        cfg.addAppender(capture);
        cfg.getRootLogger().addAppender(capture, Level.ALL, null);
        for (String name : loggerNames) {
            LoggerConfig lc = cfg.getLoggerConfig(name);
            if (!lc.getName().equals(name)) {
                lc = new LoggerConfig(name, level, true);
                cfg.addLogger(name, lc);
            }
            lc.setLevel(level);
        }
        ctx.updateLoggers();
        return capture;
    }

    /** Sets a logger's level in the running configuration. */
    static void setLevel(String name, Level level) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        LoggerConfig lc = cfg.getLoggerConfig(name);
        if (!lc.getName().equals(name)) {
            lc = new LoggerConfig(name, level, true);
            cfg.addLogger(name, lc);
        }
        lc.setLevel(level);
        ctx.updateLoggers();
    }

    @Override
    public synchronized void append(LogEvent event) {
        StringBuilder sb = new StringBuilder();
        sb.append(event.getLoggerName()).append(' ').append(event.getMessage().getFormattedMessage());
        if (event.getThrown() != null) {
            StringWriter sw = new StringWriter();
            event.getThrown().printStackTrace(new PrintWriter(sw));
            sb.append('\n').append(sw);
        }
        lines.add(sb.toString());
        levels.add(event.getLevel().name());
    }

    synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }

    synchronized List<String> lines(String level) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (levels.get(i).equals(level)) {
                out.add(lines.get(i));
            }
        }
        return out;
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        cfg.getRootLogger().removeAppender(getName());
        ctx.updateLoggers();
        stop();
    }
}
