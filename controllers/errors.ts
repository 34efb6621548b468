// A configuration that cannot work: `kiln controller` prints it with the usage and exits 2.
export class ConfigError extends Error {}
