/**
 * The JDBC store ({@link JdbcBatchStore}): PostgreSQL for several nodes, H2 for one. Request rows are written by group
 * commit on a few held connections ({@link JdbcSpool}, {@link JdbcGroupWriter}, {@code COPY} on PostgreSQL), into an
 * open segment per writer so that no row is shared by every producer; segments are leased to one node at a time ({@link
 * JdbcLeases}). The table names and the database flavour are in {@link JdbcTables}, the DDL in {@link JdbcSchema},
 * apart from the store's logic.
 */
package dev.camelbatch.openaibatch.engine.store.jdbc;
