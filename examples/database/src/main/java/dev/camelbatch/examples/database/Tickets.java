package dev.camelbatch.examples.database;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/** The table {@code tickets(id, text, category)}: schema, sample rows, and queries for the demo's summary. */
public final class Tickets {

    /** Portable between H2 and PostgreSQL. */
    public static final String SCHEMA = "CREATE TABLE IF NOT EXISTS tickets (id BIGINT PRIMARY KEY,"
                                        + " text VARCHAR(4000) NOT NULL, category VARCHAR(255))";

    private static final String[] SAMPLES = {
        "I was charged twice for my March invoice.",
        "The parcel tracking page says delivered but nothing arrived.",
        "The app crashes when I open the settings screen.",
        "How do I change the e-mail address of my account?",
        "Can I get a refund for the unused months of my plan?",
        "My password reset link has expired.",
        "The delivery was left at the wrong address.",
        "Error 502 when I upload a file larger than 10 MB.",
        "Please close my account and delete my data.",
        "Do you have a printed catalogue?"};

    /** A ticket row. */
    public record Ticket(long id, String text, String category) {
    }

    private Tickets() {
    }

    public static void createTable(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(SCHEMA);
        }
    }

    /** The 30 sample tickets (ids 1..30). */
    public static List<Ticket> samples() {
        List<Ticket> l = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            l.add(new Ticket(i + 1, SAMPLES[i % SAMPLES.length] + " (customer " + (4200 + i) + ")", null));
        }
        return l;
    }

    /** Inserts the samples when the table is empty; returns how many were inserted. */
    public static int seedIfEmpty(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM tickets")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return 0;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tickets (id, text) VALUES (?, ?)")) {
                for (Ticket t : samples()) {
                    ps.setLong(1, t.id());
                    ps.setString(2, t.text());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return samples().size();
        }
    }

    public static long countWithoutCategory(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM tickets WHERE category IS NULL")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static List<Ticket> all(DataSource ds) throws SQLException {
        List<Ticket> l = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, text, category FROM tickets ORDER BY id")) {
            while (rs.next()) {
                l.add(new Ticket(rs.getLong(1), rs.getString(2), rs.getString(3)));
            }
        }
        return l;
    }
}
