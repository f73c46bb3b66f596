declare module "kinvey-node-sdk";
