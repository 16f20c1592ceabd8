/** Node configuration: one properties file per node. */
package io.keyrotor.server.config;
