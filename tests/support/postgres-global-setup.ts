import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { administer, startTestCluster, TEMPLATE_DATABASE, type TestCluster } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The tests' PostgreSQL cluster: its socket folder (see TestCluster.url). */
    postgresDir: string;
  }
}

/**
 * Shared by the PostgreSQL projects (integration-pg, integration-pg-serial, http-pg): vitest runs each
 * project's global setup, and one cluster serves them all. Kept on globalThis, which the setups share in
 * vitest's own process.
 */
interface SharedCluster {
  ready: Promise<TestCluster>;
  users: number;
}
const shared = globalThis as { undersignedTestCluster?: SharedCluster };

/** Starts the cluster once with a migrated template database, and stops it after the last project. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const entry = (shared.undersignedTestCluster ??= { ready: startWithTemplate(), users: 0 });
  entry.users += 1;
  const cluster = await entry.ready;
  project.provide('postgresDir', cluster.dir);
  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    shared.undersignedTestCluster = undefined;
    cluster.stop();
  };
}

async function startWithTemplate(): Promise<TestCluster> {
  const cluster = startTestCluster();
  try {
    await administer(cluster.url, `create database ${TEMPLATE_DATABASE}`);
    const template = openDatabase({ dialect: 'postgres', url: cluster.url(TEMPLATE_DATABASE), poolSize: 1 });
    try {
      await migrateToLatest(template.db);
    } finally {
      await template.close();
    }
    return cluster;
  } catch (error) {
    cluster.stop();
    throw error;
  }
}
