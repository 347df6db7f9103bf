/// The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
///
/// `OpenAPIDocumentTests` keeps it true: the operations it lists must be exactly the routes the
/// router registers under `/api/v1`, and the live answers must have the documented shapes.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Slipway API",
    "version": "1.0.0",
    "summary": "The native control-plane API of Slipway: models, versions with lineage, aliases with history, stages, artifacts, audit and tokens.",
    "description": "Every call except `/api/v1/health` and `/api/v1/openapi.json` needs `Authorization: Bearer slw_…`. JSON keys are camelCase; dates are ISO 8601 with milliseconds. Errors are `{\"error\": {\"code\", \"message\"}}`.",
    "license": {
      "name": "Apache-2.0",
      "identifier": "Apache-2.0"
    }
  },
  "tags": [
    {
      "name": "server"
    },
    {
      "name": "datasets"
    },
    {
      "name": "rollouts"
    },
    {
      "name": "models"
    },
    {
      "name": "versions"
    },
    {
      "name": "aliases"
    },
    {
      "name": "stages"
    },
    {
      "name": "audit"
    },
    {
      "name": "artifacts"
    },
    {
      "name": "tokens"
    },
    {
      "name": "endpoints"
    },
    {
      "name": "runners"
    }
  ],
  "security": [
    {
      "bearerAuth": []
    }
  ],
  "paths": {
    "/api/v1/health": {
      "get": {
        "operationId": "health",
        "summary": "Tells that the server is up.",
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          }
        },
        "security": []
      }
    },
    "/api/v1/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document.",
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 document of /api/v1.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        },
        "security": []
      }
    },
    "/api/v1/models": {
      "get": {
        "operationId": "searchModels",
        "summary": "Searches registered models.",
        "tags": [
          "models"
        ],
        "description": "Model filters take `name`, `description`, `user_id`, `creation_timestamp`, `last_updated_timestamp` and `tags.<key>`.",
        "parameters": [
          {
            "name": "filter",
            "in": "query",
            "required": false,
            "description": "A filter in MLflow's search syntax, e.g. `name LIKE 'fraud%' AND tags.team = 'risk'`; versions also take `metrics.<key> >= <number>` and `params.<key> = '<value>'`. Empty matches everything.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "orderBy",
            "in": "query",
            "required": false,
            "description": "Sort terms such as `name ASC` or `creation_timestamp DESC`; repeat the parameter for several.",
            "schema": {
              "type": "array",
              "items": {
                "type": "string"
              }
            },
            "style": "form",
            "explode": true
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "At most this many results (default 100).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000,
              "default": 100
            }
          },
          {
            "name": "pageToken",
            "in": "query",
            "required": false,
            "description": "The `nextPageToken` of the previous page.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "operationId": "createModel",
        "summary": "Registers a model.",
        "tags": [
          "models"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateModelRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RegisteredModel"
                }
              }
            },
            "links": {
              "CreateVersion": {
                "operationId": "createVersion",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "DeleteModel": {
                "operationId": "deleteModel",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "DeleteModelTag": {
                "operationId": "deleteModelTag",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "GetModel": {
                "operationId": "getModel",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "ListVersions": {
                "operationId": "listVersions",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "ModelAliasHistory": {
                "operationId": "modelAliasHistory",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "RenameModel": {
                "operationId": "renameModel",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "SetModelTag": {
                "operationId": "setModelTag",
                "parameters": {
                  "name": "$response.body#/name"
                }
              },
              "UpdateModel": {
                "operationId": "updateModel",
                "parameters": {
                  "name": "$response.body#/name"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/models/{name}": {
      "get": {
        "operationId": "getModel",
        "summary": "Reads a model.",
        "tags": [
          "models"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RegisteredModel"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "patch": {
        "operationId": "updateModel",
        "summary": "Changes a model's description.",
        "tags": [
          "models"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DescriptionRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RegisteredModel"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      },
      "delete": {
        "operationId": "deleteModel",
        "summary": "Deletes a model and its versions (admin).",
        "tags": [
          "models"
        ],
        "description": "Refused with 409 while an alias points at one of its versions.",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/models/{name}/rename": {
      "post": {
        "operationId": "renameModel",
        "summary": "Renames a model.",
        "tags": [
          "models"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/RenameRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RegisteredModel"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/models/{name}/tags/{key}": {
      "put": {
        "operationId": "setModelTag",
        "summary": "Sets a model tag.",
        "tags": [
          "models"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "key",
            "in": "path",
            "required": true,
            "description": "The tag key.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TagValueRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      },
      "delete": {
        "operationId": "deleteModelTag",
        "summary": "Removes a model tag.",
        "tags": [
          "models"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "key",
            "in": "path",
            "required": true,
            "description": "The tag key.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/models/{name}/versions": {
      "get": {
        "operationId": "listVersions",
        "summary": "Lists a model's versions, newest first.",
        "tags": [
          "versions"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "At most this many results (default 100).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000,
              "default": 100
            }
          },
          {
            "name": "pageToken",
            "in": "query",
            "required": false,
            "description": "The `nextPageToken` of the previous page.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersionPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "post": {
        "operationId": "createVersion",
        "summary": "Registers a version.",
        "tags": [
          "versions"
        ],
        "description": "With `artifactDigest` (uploaded first with `PUT /api/v1/artifacts/{digest}`) the version is READY at once, and so is a version whose `source` names an artifact kept elsewhere (`s3://…`, `runs:/…`). With neither it is PENDING and cannot take an alias or a stage.",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateVersionRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersion"
                }
              }
            },
            "links": {
              "ApproveVersion": {
                "operationId": "approveVersion",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "DeleteVersion": {
                "operationId": "deleteVersion",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "DeleteVersionTag": {
                "operationId": "deleteVersionTag",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "GetVersion": {
                "operationId": "getVersion",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "ListApprovals": {
                "operationId": "listApprovals",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "SetAlias": {
                "operationId": "setAlias",
                "parameters": {
                  "name": "$response.body#/model"
                }
              },
              "SetVersionTag": {
                "operationId": "setVersionTag",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "TransitionStage": {
                "operationId": "transitionStage",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              },
              "UpdateVersion": {
                "operationId": "updateVersion",
                "parameters": {
                  "name": "$response.body#/model",
                  "version": "$response.body#/version"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/models/{name}/versions/{version}": {
      "get": {
        "operationId": "getVersion",
        "summary": "Reads a version by number, `latest` or alias.",
        "tags": [
          "versions"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "A version number (`3`), `v3`, `latest`, or an alias name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersion"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "patch": {
        "operationId": "updateVersion",
        "summary": "Changes a version's description.",
        "tags": [
          "versions"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DescriptionRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersion"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      },
      "delete": {
        "operationId": "deleteVersion",
        "summary": "Deletes a version.",
        "tags": [
          "versions"
        ],
        "description": "Refused with 409 while an alias or a deployment points at it.",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/models/{name}/versions/{version}/tags/{key}": {
      "put": {
        "operationId": "setVersionTag",
        "summary": "Sets a version tag.",
        "tags": [
          "versions"
        ],
        "description": "Immutable tags (per the registry policy, e.g. `v*`) can be set once; changing one answers 409.",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "key",
            "in": "path",
            "required": true,
            "description": "The tag key.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TagValueRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      },
      "delete": {
        "operationId": "deleteVersionTag",
        "summary": "Removes a version tag.",
        "tags": [
          "versions"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "key",
            "in": "path",
            "required": true,
            "description": "The tag key.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/models/{name}/versions/{version}/approvals": {
      "get": {
        "operationId": "listApprovals",
        "summary": "Lists a version's approvals.",
        "tags": [
          "stages"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApprovalList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "post": {
        "operationId": "approveVersion",
        "summary": "Approves a version for a stage (approver role).",
        "tags": [
          "stages"
        ],
        "description": "The principal who registered the version cannot approve it (409).",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ApproveRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersion"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/models/{name}/versions/{version}/stage": {
      "post": {
        "operationId": "transitionStage",
        "summary": "Moves a version to a lifecycle stage.",
        "tags": [
          "stages"
        ],
        "description": "A transition that breaks a rule of the stage policy answers 409 naming the rule.",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "version",
            "in": "path",
            "required": true,
            "description": "The version number.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TransitionRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersion"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/models/{name}/aliases/{alias}": {
      "get": {
        "operationId": "getAlias",
        "summary": "Reads the version an alias points at, now or at an instant.",
        "tags": [
          "aliases"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "alias",
            "in": "path",
            "required": true,
            "description": "The alias name (`production`, `champion`, …).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "at",
            "in": "query",
            "required": false,
            "description": "An instant, ISO 8601 (`2026-11-27T10:00:00Z`) or milliseconds since 1970: answers what the alias pointed at then.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Without `at`: the version (a ModelVersion). With `at`: an AliasAt naming the version then.",
            "content": {
              "application/json": {
                "schema": {
                  "anyOf": [
                    {
                      "$ref": "#/components/schemas/ModelVersion"
                    },
                    {
                      "$ref": "#/components/schemas/AliasAt"
                    }
                  ]
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "put": {
        "operationId": "setAlias",
        "summary": "Points an alias at a READY version.",
        "tags": [
          "aliases"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "alias",
            "in": "path",
            "required": true,
            "description": "The alias name (`production`, `champion`, …).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SetAliasRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AliasEvent"
                }
              }
            },
            "links": {
              "AliasHistory": {
                "operationId": "aliasHistory",
                "parameters": {
                  "name": "$response.body#/model",
                  "alias": "$response.body#/alias"
                }
              },
              "DeleteAlias": {
                "operationId": "deleteAlias",
                "parameters": {
                  "name": "$response.body#/model",
                  "alias": "$response.body#/alias"
                }
              },
              "GetAlias": {
                "operationId": "getAlias",
                "parameters": {
                  "name": "$response.body#/model",
                  "alias": "$response.body#/alias"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      },
      "delete": {
        "operationId": "deleteAlias",
        "summary": "Deletes an alias (its history stays).",
        "tags": [
          "aliases"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "alias",
            "in": "path",
            "required": true,
            "description": "The alias name (`production`, `champion`, …).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "reason",
            "in": "query",
            "required": false,
            "description": "Why, for the alias history.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AliasEvent"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/models/{name}/aliases/{alias}/history": {
      "get": {
        "operationId": "aliasHistory",
        "summary": "Every move of one alias, oldest first.",
        "tags": [
          "aliases"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "alias",
            "in": "path",
            "required": true,
            "description": "The alias name (`production`, `champion`, …).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AliasEventList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/models/{name}/history": {
      "get": {
        "operationId": "modelAliasHistory",
        "summary": "Every move of every alias of a model, oldest first.",
        "tags": [
          "aliases"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The registered model's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AliasEventList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/versions": {
      "get": {
        "operationId": "searchVersions",
        "summary": "Searches model versions across models.",
        "tags": [
          "versions"
        ],
        "parameters": [
          {
            "name": "filter",
            "in": "query",
            "required": false,
            "description": "A filter in MLflow's search syntax, e.g. `name LIKE 'fraud%' AND tags.team = 'risk'`; versions also take `metrics.<key> >= <number>` and `params.<key> = '<value>'`. Empty matches everything.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "orderBy",
            "in": "query",
            "required": false,
            "description": "Sort terms such as `name ASC` or `creation_timestamp DESC`; repeat the parameter for several.",
            "schema": {
              "type": "array",
              "items": {
                "type": "string"
              }
            },
            "style": "form",
            "explode": true
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "At most this many results (default 100).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000,
              "default": 100
            }
          },
          {
            "name": "pageToken",
            "in": "query",
            "required": false,
            "description": "The `nextPageToken` of the previous page.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelVersionPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/api/v1/audit": {
      "get": {
        "operationId": "audit",
        "summary": "Reads the audit log, newest first.",
        "tags": [
          "audit"
        ],
        "parameters": [
          {
            "name": "model",
            "in": "query",
            "required": false,
            "description": "Only events about this model.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "At most this many results (default 100).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000,
              "default": 100
            }
          },
          {
            "name": "beforeId",
            "in": "query",
            "required": false,
            "description": "Only events with a smaller id (for paging).",
            "schema": {
              "type": "integer",
              "format": "int64"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AuditEventList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/api/v1/artifacts/missing": {
      "post": {
        "operationId": "listMissingArtifacts",
        "summary": "Tells which of the given digests are not stored (used by slipway data push).",
        "tags": [
          "artifacts"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": ["digests"],
                "properties": {
                  "digests": {
                    "type": "array",
                    "maxItems": 10000,
                    "items": {
                      "type": "string",
                      "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
                    }
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The digests that are not stored, in the order given, without duplicates.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": ["missing"],
                  "properties": {
                    "missing": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/api/v1/artifacts/{digest}": {
      "head": {
        "operationId": "headArtifact",
        "summary": "Tells whether an artifact is stored, and its size.",
        "tags": [
          "artifacts"
        ],
        "parameters": [
          {
            "name": "digest",
            "in": "path",
            "required": true,
            "description": "The artifact's content digest, `sha256:<64 hex digits>` (the bare digits work too).",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Stored.",
            "headers": {
              "Content-Length": {
                "description": "The object's size in bytes.",
                "schema": {
                  "type": "integer",
                  "minimum": 0
                }
              }
            }
          },
          "400": {
            "description": "The request is malformed: a bad parameter, a malformed JSON body or an invalid name. The message says which."
          },
          "401": {
            "description": "No bearer token, or an unknown or revoked one."
          },
          "403": {
            "description": "The token's role is too weak for this call."
          },
          "404": {
            "description": "Not stored."
          }
        }
      },
      "get": {
        "operationId": "downloadArtifact",
        "summary": "Downloads an artifact, verified as it streams.",
        "tags": [
          "artifacts"
        ],
        "parameters": [
          {
            "name": "digest",
            "in": "path",
            "required": true,
            "description": "The artifact's content digest, `sha256:<64 hex digits>` (the bare digits work too).",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The object's bytes. A folder artifact is its JSON manifest.",
            "headers": {
              "X-Slipway-Digest": {
                "description": "The object's digest.",
                "schema": {
                  "$ref": "#/components/schemas/Digest"
                }
              }
            },
            "content": {
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "contentMediaType": "application/octet-stream"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "put": {
        "operationId": "uploadArtifact",
        "summary": "Uploads an artifact; its bytes must hash to the digest in the path.",
        "tags": [
          "artifacts"
        ],
        "description": "Bytes that do not hash to the digest answer 400 and nothing is stored.",
        "parameters": [
          {
            "name": "digest",
            "in": "path",
            "required": true,
            "description": "The artifact's content digest, `sha256:<64 hex digits>` (the bare digits work too).",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "description": "The bytes, streamed (no size limit).",
          "content": {
            "application/octet-stream": {
              "schema": {
                "type": "string",
                "contentMediaType": "application/octet-stream"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Already stored; the body was read and dropped.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoredObject"
                }
              }
            },
            "links": {
              "DownloadArtifact": {
                "operationId": "downloadArtifact",
                "parameters": {
                  "digest": "$response.body#/digest"
                }
              },
              "HeadArtifact": {
                "operationId": "headArtifact",
                "parameters": {
                  "digest": "$response.body#/digest"
                }
              }
            }
          },
          "201": {
            "description": "Stored.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoredObject"
                }
              }
            },
            "links": {
              "DownloadArtifact": {
                "operationId": "downloadArtifact",
                "parameters": {
                  "digest": "$response.body#/digest"
                }
              },
              "HeadArtifact": {
                "operationId": "headArtifact",
                "parameters": {
                  "digest": "$response.body#/digest"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/api/v1/datasets": {
      "get": {
        "operationId": "listDatasets",
        "summary": "Lists registered datasets, newest first; or finds one by name and digest.",
        "description": "Names are tracked paths such as `data/train.csv`, so they go in the query. With `digest` (and `name`) the answer holds that one dataset, or 404.",
        "tags": [
          "datasets"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "query",
            "required": false,
            "description": "Only datasets of this name.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "digest",
            "in": "query",
            "required": false,
            "description": "With name: the dataset with this content digest.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "At most this many (1–1000, default 100).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DatasetList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "post": {
        "operationId": "registerDataset",
        "summary": "Registers a dataset (editor). The same name and digest again answer 200 with the first registration.",
        "tags": [
          "datasets"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/NewDataset"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Registered.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Dataset"
                }
              }
            }
          },
          "200": {
            "description": "Registered before, unchanged.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Dataset"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/tokens": {
      "get": {
        "operationId": "listTokens",
        "summary": "Lists access tokens (admin).",
        "tags": [
          "tokens"
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TokenList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "operationId": "createToken",
        "summary": "Creates an access token (admin). The secret is shown once.",
        "tags": [
          "tokens"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateTokenRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/IssuedToken"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/tokens/{id}": {
      "delete": {
        "operationId": "revokeToken",
        "summary": "Revokes an access token (admin).",
        "tags": [
          "tokens"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The token id (`tok_…`).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/whoami": {
      "get": {
        "operationId": "whoami",
        "summary": "The principal the bearer token stands for.",
        "tags": [
          "tokens"
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Principal"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/api/v1/endpoints": {
      "get": {
        "operationId": "listEndpoints",
        "summary": "Lists the endpoints with their deployments.",
        "tags": [
          "endpoints"
        ],
        "parameters": [],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "operationId": "createEndpoint",
        "summary": "Creates an endpoint; its traffic goes to the initial variant once that is deployed.",
        "tags": [
          "endpoints"
        ],
        "parameters": [],
        "responses": {
          "201": {
            "description": "Created",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateEndpointRequest"
              }
            }
          }
        }
      }
    },
    "/api/v1/endpoints/{name}": {
      "get": {
        "operationId": "getEndpoint",
        "summary": "An endpoint with its policy, weights and live per-variant metrics.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "delete": {
        "operationId": "deleteEndpoint",
        "summary": "Deletes an endpoint and its deployments.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/deployments/{variant}": {
      "put": {
        "operationId": "deploy",
        "summary": "Serves a model version (MODEL@VERSION or MODEL@ALIAS) as a variant of the endpoint.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "variant",
            "in": "path",
            "required": true,
            "description": "The variant (`stable`, `canary`, `blue`, …).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DeployRequest"
              }
            }
          }
        }
      },
      "delete": {
        "operationId": "undeploy",
        "summary": "Removes a variant's deployment; refused while the policy sends it traffic.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "variant",
            "in": "path",
            "required": true,
            "description": "The variant (`stable`, `canary`, `blue`, …).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/traffic": {
      "put": {
        "operationId": "setWeights",
        "summary": "Sets the weights (percent, adding up to 100); buckets move minimally, so sticky users stay put.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SetWeightsRequest"
              }
            }
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/traffic/switch": {
      "post": {
        "operationId": "switchTraffic",
        "summary": "Sends all traffic to one variant at once (blue-green switch, rollback).",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SwitchRequest"
              }
            }
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/traffic/mirror": {
      "put": {
        "operationId": "mirrorTraffic",
        "summary": "Mirrors a share of the traffic to a variant (0 stops it).",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/MirrorRequest"
              }
            }
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/traffic/routes": {
      "put": {
        "operationId": "routeTraffic",
        "summary": "Routes requests with a header value to a variant; without a variant the route is removed.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EndpointStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/RouteRequest"
              }
            }
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/feedback": {
      "post": {
        "operationId": "postFeedback",
        "summary": "Attaches ground truth and/or an outcome to the logged answer of a request, or to up to 1,000 at once.",
        "description": "The gateway logs every answer within a fraction of a second; feedback goes to the answer the client got (never to a mirrored copy) and replaces earlier feedback for the request. One item (`FeedbackRequest`) is answered with the updated record, or 404 when the endpoint has not logged the request. A batch (`FeedbackBatchRequest`) is answered item by item, in order: each result has the updated record or the item's error (`invalid_argument`, `not_found`), and the others still count. Needs the editor role.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The updated record (one item), or one result per item (a batch).",
            "content": {
              "application/json": {
                "schema": {
                  "anyOf": [
                    {
                      "$ref": "#/components/schemas/PredictionRecord"
                    },
                    {
                      "$ref": "#/components/schemas/FeedbackResults"
                    }
                  ]
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "anyOf": [
                  {
                    "$ref": "#/components/schemas/FeedbackRequest"
                  },
                  {
                    "$ref": "#/components/schemas/FeedbackBatchRequest"
                  }
                ]
              }
            }
          }
        }
      }
    },
    "/api/v1/endpoints/{name}/predictions": {
      "get": {
        "operationId": "listPredictions",
        "summary": "A page of the endpoint's prediction log, oldest first.",
        "description": "Every answer the gateway gave for the endpoint, and every mirrored copy (`kind: mirror`), in the order they were logged. A page holds at most `limit` records, fewer when their text passes about 16 MiB; follow `nextPageToken` until it is absent.",
        "tags": [
          "endpoints"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The endpoint's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "since",
            "in": "query",
            "required": false,
            "description": "Only records at or after this instant: ISO 8601 (`2026-11-27T10:15:30.123Z`) or milliseconds since 1970.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "The most records on a page (default 1000).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000
            }
          },
          {
            "name": "pageToken",
            "in": "query",
            "required": false,
            "description": "The `nextPageToken` of the previous page, with the same `since`; also accepted as `page_token`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PredictionPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/rollouts": {
      "get": {
        "operationId": "listRollouts",
        "summary": "Every rollout with its status, by name.",
        "tags": [
          "rollouts"
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "operationId": "startRollout",
        "summary": "Start a rollout from its YAML file or a JSON spec.",
        "description": "A body of another content type than JSON is the YAML file itself (`?file=` names it in diagnostics). An invalid file is refused with every problem as `file:line:column: message`, one per line of the message, and nothing starts. Only the canary strategy with `setWeight`, `pause` and analysis steps (builtin metrics or the default analysis) runs yet; other strategies are refused. A second rollout on an endpoint with a running one is refused (409) naming the running one.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "file",
            "in": "query",
            "required": false,
            "description": "The file name diagnostics use, for a YAML body.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/StartRolloutRequest"
              }
            },
            "application/yaml": {
              "schema": {
                "type": "string"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Started; the controller moves it from here.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}": {
      "get": {
        "operationId": "getRollout",
        "summary": "A rollout's phase, step, weights and analysis.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/history": {
      "get": {
        "operationId": "getRolloutHistory",
        "summary": "Every transition of a rollout, oldest first.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutHistory"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/promote": {
      "post": {
        "operationId": "promoteRollout",
        "summary": "Skip the current step, or with `full` promote to 100% at once.",
        "description": "Needs the approver role. The candidate becomes the `production` alias when the rollout completes.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PromoteRolloutRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/abort": {
      "post": {
        "operationId": "abortRollout",
        "summary": "Stop a running rollout: the candidate's weight goes to 0 before the answer.",
        "description": "The rollout ends Degraded with the reason.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AbortRolloutRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/undo": {
      "post": {
        "operationId": "undoRollout",
        "summary": "Undo a completed rollout: traffic back on the variant that was stable before it.",
        "description": "The earlier stable variant must still be deployed; the model's production alias returns to the version it named before. Needs the approver role. The rollout becomes Degraded with the reason.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AbortRolloutRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/pause": {
      "post": {
        "operationId": "pauseRollout",
        "summary": "Hold a progressing rollout at its step.",
        "description": "It waits, Paused, until resumed.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/resume": {
      "post": {
        "operationId": "resumeRollout",
        "summary": "Resume a paused rollout.",
        "description": "Past a gate (a pause step without duration, an inconclusive analysis) this moves to the next step and needs the approver role.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/rollouts/{name}/retry": {
      "post": {
        "operationId": "retryRollout",
        "summary": "Start a Degraded rollout again from step 0.",
        "description": "The candidate stays deployed at weight 0 until the first setWeight step.",
        "tags": [
          "rollouts"
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The rollout's name.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/api/v1/runners": {
      "get": {
        "operationId": "listRunners",
        "summary": "Lists the registered pipeline runners with their state and the job each runs.",
        "tags": [
          "runners"
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RunnerList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "operationId": "registerRunner",
        "summary": "Registers a pipeline runner with the labels it offers (editor).",
        "description": "Labels are lower-cased and de-duplicated. The server keeps runners in memory: after a restart a runner registers again. A runner not heard from for 60 seconds is offline, and a job it held ends with an error.",
        "tags": [
          "runners"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/RegisterRunnerRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Registered.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Runner"
                }
              }
            },
            "links": {
              "NextPipelineJob": {
                "operationId": "nextPipelineJob",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "RemoveRunner": {
                "operationId": "removeRunner",
                "parameters": {
                  "id": "$response.body#/id"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/runners/{id}": {
      "delete": {
        "operationId": "removeRunner",
        "summary": "Removes a runner (editor); a job it runs ends with an error.",
        "tags": [
          "runners"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The runner's id (`rnr_…`), from its registration.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Removed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/runners/{id}/next": {
      "post": {
        "operationId": "nextPipelineJob",
        "summary": "Takes the oldest queued job whose labels the runner all has (editor).",
        "description": "The answer carries the job's payload, which only the runner that takes the job ever sees. Query parameter `wait` (seconds, 0 to 30, default 0) makes the call a long poll: it waits up to that long for a job and answers as soon as one is submitted. Any other value is refused with 400. A second waiting poll of the same runner replaces the first, which then answers 204.",
        "tags": [
          "runners"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The runner's id (`rnr_…`), from its registration.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The job the runner now runs.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/NextPipelineJob"
                }
              }
            },
            "links": {
              "GetPipelineJob": {
                "operationId": "getPipelineJob",
                "parameters": {
                  "id": "$response.body#/job/id"
                }
              },
              "AppendPipelineJobLines": {
                "operationId": "appendPipelineJobLines",
                "parameters": {
                  "id": "$response.body#/job/id"
                }
              },
              "CompletePipelineJob": {
                "operationId": "completePipelineJob",
                "parameters": {
                  "id": "$response.body#/job/id"
                }
              }
            }
          },
          "204": {
            "description": "No job for this runner (within `wait`)."
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "description": "The runner still runs a job (post its result first), or it is ephemeral and has taken its one job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/v1/pipeline-jobs": {
      "post": {
        "operationId": "submitPipelineJob",
        "summary": "Queues a pipeline job for a runner with all its labels (editor).",
        "description": "A waiting runner that has the labels takes it at once. The payload (the job, its secrets included) goes only to that runner; the job's status never shows it.",
        "tags": [
          "runners"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SubmitPipelineJobRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Queued.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PipelineJobStatus"
                }
              }
            },
            "links": {
              "GetPipelineJob": {
                "operationId": "getPipelineJob",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "CancelPipelineJob": {
                "operationId": "cancelPipelineJob",
                "parameters": {
                  "id": "$response.body#/id"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "503": {
            "description": "The server already holds 2,000 pipeline jobs; submit again once some have finished.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/v1/pipeline-jobs/{id}": {
      "get": {
        "operationId": "getPipelineJob",
        "summary": "A pipeline job's state, result and the lines its runner streamed from `after` on (viewer).",
        "description": "Query parameter `wait` (seconds, 0 to 30, default 0) makes the call a long poll: it waits up to that long for news and answers as soon as new lines arrive or the job changes state. Any other value is refused with 400. Each call also tells the server that the run still follows the job: a queued or running job nobody asks about for 120 seconds is cancelled. The payload is never shown.",
        "tags": [
          "runners"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The pipeline job's id (`job_…`), from its submission.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "after",
            "in": "query",
            "required": false,
            "description": "The index of the first line to return (the previous answer's `next`); 0 for all that are kept.",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 2147483647,
              "default": 0
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PipelineJobStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/api/v1/pipeline-jobs/{id}/lines": {
      "post": {
        "operationId": "appendPipelineJobLines",
        "summary": "Appends output lines from the runner that runs the job (editor); tells it whether the job was cancelled.",
        "description": "At most 5,000 lines per call, each at most 262,144 bytes of UTF-8; the job keeps its last 200,000 lines.",
        "tags": [
          "runners"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The pipeline job's id (`job_…`), from its submission.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AppendPipelineJobLinesRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Appended.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AppendPipelineJobLinesAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "description": "The runner does not run this job: another runner took it, it ended, or the runner was removed or went offline.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/pipeline-jobs/{id}/result": {
      "post": {
        "operationId": "completePipelineJob",
        "summary": "Posts the result of a job from the runner that ran it (editor); the job is then completed.",
        "tags": [
          "runners"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The pipeline job's id (`job_…`), from its submission.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CompletePipelineJobRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Completed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Empty"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "description": "The runner does not run this job: another runner took it, it ended, or the runner was removed or went offline.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        }
      }
    },
    "/api/v1/pipeline-jobs/{id}/cancel": {
      "post": {
        "operationId": "cancelPipelineJob",
        "summary": "Cancels a pipeline job (editor): a queued one ends at once, a running one is told on its runner's next lines.",
        "tags": [
          "runners"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The pipeline job's id (`job_…`), from its submission.",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The job after the request.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PipelineJobStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "slw_<48 hex digits>",
        "description": "A token from `slipway token create` or the server's first start."
      }
    },
    "responses": {
      "BadRequest": {
        "description": "The request is malformed: a bad parameter, a malformed JSON body or an invalid name. The message says which.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No bearer token, or an unknown or revoked one.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Forbidden": {
        "description": "The token's role is too weak for this call.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotFound": {
        "description": "The model, version, alias, artifact, token, endpoint or logged request does not exist.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Conflict": {
        "description": "The current state does not allow the change: the name exists, a rule of the stage policy failed, an alias or immutable tag is in the way.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "ContentTooLarge": {
        "description": "The request body is over the server's limit (`server.maxBodyBytes`).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "schemas": {
      "Empty": {
        "type": "object",
        "description": "An empty object.",
        "maxProperties": 0
      },
      "Error": {
        "type": "object",
        "description": "Every error of /api/v1 has this shape.",
        "properties": {
          "error": {
            "type": "object",
            "properties": {
              "code": {
                "type": "string",
                "enum": [
                  "invalid_argument",
                  "unauthenticated",
                  "permission_denied",
                  "not_found",
                  "already_exists",
                  "failed_precondition",
                  "too_large",
                  "corrupted",
                  "internal",
                  "unavailable"
                ],
                "description": "The kind of failure."
              },
              "message": {
                "type": "string",
                "description": "What was wrong and what to do about it."
              }
            },
            "required": [
              "code",
              "message"
            ]
          }
        },
        "required": [
          "error"
        ]
      },
      "Digest": {
        "type": "string",
        "pattern": "^sha256:[0-9a-f]{64}$",
        "description": "A SHA-256 content digest.",
        "examples": [
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ]
      },
      "Role": {
        "type": "string",
        "enum": [
          "viewer",
          "editor",
          "approver",
          "admin"
        ],
        "description": "What a principal may do; each role includes the ones before it."
      },
      "VersionStatus": {
        "type": "string",
        "enum": [
          "PENDING",
          "READY",
          "FAILED"
        ]
      },
      "RegisteredModel": {
        "type": "object",
        "description": "A registered model: a name under which versions are numbered from 1.",
        "properties": {
          "name": {
            "type": "string",
            "description": "The model's name."
          },
          "description": {
            "type": "string"
          },
          "tags": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Tag key → value."
          },
          "aliases": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 1
            },
            "description": "Alias name → version number."
          },
          "latestVersion": {
            "type": "integer",
            "description": "The highest version number registered so far; absent before the first.",
            "minimum": 1
          },
          "createdAt": {
            "type": "string",
            "format": "date-time",
            "description": "When the model was registered."
          },
          "updatedAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it last changed."
          },
          "createdBy": {
            "type": "string",
            "description": "Who registered it."
          }
        },
        "required": [
          "aliases",
          "createdAt",
          "createdBy",
          "description",
          "name",
          "tags",
          "updatedAt"
        ]
      },
      "ModelVersion": {
        "type": "object",
        "description": "One version of a registered model; immutable once READY apart from its description, tags and stage.",
        "properties": {
          "model": {
            "type": "string",
            "description": "The registered model's name."
          },
          "version": {
            "type": "integer",
            "description": "The version number, from 1.",
            "minimum": 1
          },
          "status": {
            "$ref": "#/components/schemas/VersionStatus"
          },
          "statusMessage": {
            "type": "string",
            "description": "Why the version FAILED."
          },
          "stage": {
            "type": "string",
            "description": "The lifecycle stage: None, Staging, Production, Archived or a configured one."
          },
          "artifactDigest": {
            "$ref": "#/components/schemas/Digest"
          },
          "artifactSize": {
            "type": "integer",
            "description": "The artifact's size in bytes (a folder: the sum of its files).",
            "format": "int64",
            "minimum": 0
          },
          "source": {
            "type": "string",
            "description": "Where the artifact came from, as the registrant gave it."
          },
          "runId": {
            "type": "string",
            "description": "The training run, if any."
          },
          "description": {
            "type": "string"
          },
          "tags": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Tag key → value."
          },
          "lineage": {
            "$ref": "#/components/schemas/Lineage"
          },
          "aliases": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Aliases pointing at this version."
          },
          "createdAt": {
            "type": "string",
            "format": "date-time",
            "description": "When the version was registered."
          },
          "updatedAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it last changed."
          },
          "createdBy": {
            "type": "string",
            "description": "Who registered it."
          }
        },
        "required": [
          "aliases",
          "createdAt",
          "createdBy",
          "description",
          "lineage",
          "model",
          "source",
          "stage",
          "status",
          "tags",
          "updatedAt",
          "version"
        ]
      },
      "Lineage": {
        "type": "object",
        "description": "Where a version came from: code, data, parameters, environment and people. Responses always carry the arrays and maps; in a request each field may be left out.",
        "properties": {
          "modelId": {
            "type": "string",
            "description": "The model family or project identifier."
          },
          "git": {
            "$ref": "#/components/schemas/GitInfo"
          },
          "trainingData": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/DatasetReference"
            }
          },
          "parameters": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Hyper-parameters, as strings."
          },
          "metrics": {
            "type": "object",
            "additionalProperties": {
              "type": "number"
            },
            "description": "Metric name → value (finite)."
          },
          "environment": {
            "$ref": "#/components/schemas/EnvironmentInfo"
          },
          "containerImage": {
            "type": "string"
          },
          "trainedBy": {
            "type": "string"
          },
          "approvedBy": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Who approved the version (filled from the approval log on read)."
          },
          "deployments": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/DeploymentRecord"
            },
            "description": "When the version was live under an alias (filled from the alias history on read)."
          },
          "extras": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Anything else the team records."
          }
        },
        "required": [
          "approvedBy",
          "deployments",
          "extras",
          "metrics",
          "parameters",
          "trainingData"
        ]
      },
      "GitInfo": {
        "type": "object",
        "properties": {
          "commit": {
            "type": "string"
          },
          "repository": {
            "type": "string"
          },
          "branch": {
            "type": "string"
          },
          "dirty": {
            "type": "boolean",
            "description": "True when the working tree had uncommitted changes."
          }
        },
        "required": [
          "commit"
        ]
      },
      "DatasetReference": {
        "type": "object",
        "properties": {
          "uri": {
            "type": "string"
          },
          "digest": {
            "$ref": "#/components/schemas/Digest"
          },
          "rows": {
            "type": "integer",
            "description": "",
            "format": "int64"
          },
          "dateFrom": {
            "type": "string",
            "description": "First day or instant the data covers (ISO 8601)."
          },
          "dateTo": {
            "type": "string",
            "description": "Last day or instant the data covers (ISO 8601)."
          }
        },
        "required": [
          "uri"
        ]
      },
      "EnvironmentInfo": {
        "type": "object",
        "properties": {
          "os": {
            "type": "string"
          },
          "architecture": {
            "type": "string"
          },
          "language": {
            "type": "string"
          },
          "languageVersion": {
            "type": "string"
          },
          "libraries": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Library name → version."
          },
          "cuda": {
            "type": "string"
          },
          "hostname": {
            "type": "string"
          }
        },
        "required": [
          "libraries"
        ]
      },
      "DeploymentRecord": {
        "type": "object",
        "properties": {
          "alias": {
            "type": "string"
          },
          "from": {
            "type": "string",
            "format": "date-time",
            "description": "Since when."
          },
          "until": {
            "type": "string",
            "format": "date-time",
            "description": "Until when; absent while live."
          }
        },
        "required": [
          "alias",
          "from"
        ]
      },
      "AliasEvent": {
        "type": "object",
        "description": "One move of an alias, kept forever.",
        "properties": {
          "model": {
            "type": "string"
          },
          "alias": {
            "type": "string"
          },
          "fromVersion": {
            "type": "integer",
            "description": "The version before; absent when the alias was created."
          },
          "toVersion": {
            "type": "integer",
            "description": "The version after; absent when the alias was deleted."
          },
          "actor": {
            "type": "string",
            "description": "Who moved it."
          },
          "reason": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time",
            "description": "When."
          }
        },
        "required": [
          "actor",
          "alias",
          "at",
          "model"
        ]
      },
      "AliasAt": {
        "type": "object",
        "description": "What an alias pointed at at an instant.",
        "properties": {
          "model": {
            "type": "string"
          },
          "alias": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time",
            "description": "The instant asked about."
          },
          "version": {
            "type": "integer",
            "description": "The version the alias pointed at then; absent if it pointed nowhere."
          }
        },
        "required": [
          "alias",
          "at",
          "model"
        ]
      },
      "Approval": {
        "type": "object",
        "description": "An approval of a version for a stage.",
        "properties": {
          "model": {
            "type": "string"
          },
          "version": {
            "type": "integer",
            "description": ""
          },
          "stage": {
            "type": "string"
          },
          "approver": {
            "type": "string"
          },
          "comment": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time",
            "description": "When."
          }
        },
        "required": [
          "approver",
          "at",
          "model",
          "stage",
          "version"
        ]
      },
      "AuditEvent": {
        "type": "object",
        "description": "A record of one change.",
        "properties": {
          "id": {
            "type": "integer",
            "description": "Increasing event id.",
            "format": "int64"
          },
          "at": {
            "type": "string",
            "format": "date-time",
            "description": "When."
          },
          "actor": {
            "type": "string",
            "description": "Who."
          },
          "action": {
            "type": "string",
            "description": "A dotted action name: `model.create`, `version.create`, `alias.set`, `stage.transition`, …"
          },
          "model": {
            "type": "string"
          },
          "version": {
            "type": "integer",
            "description": ""
          },
          "before": {
            "type": "string",
            "description": "JSON of the state before the change; absent for creations."
          },
          "after": {
            "type": "string",
            "description": "JSON of the state after the change; absent for deletions."
          }
        },
        "required": [
          "action",
          "actor",
          "at",
          "id"
        ]
      },
      "StoredObject": {
        "type": "object",
        "description": "An artifact's address and size.",
        "properties": {
          "digest": {
            "$ref": "#/components/schemas/Digest"
          },
          "size": {
            "type": "integer",
            "description": "Size in bytes.",
            "format": "int64",
            "minimum": 0
          }
        },
        "required": [
          "digest",
          "size"
        ]
      },
      "Principal": {
        "type": "object",
        "description": "Who a token stands for.",
        "properties": {
          "name": {
            "type": "string"
          },
          "role": {
            "$ref": "#/components/schemas/Role"
          }
        },
        "required": [
          "name",
          "role"
        ]
      },
      "TokenRecord": {
        "type": "object",
        "description": "An access token, without its secret.",
        "properties": {
          "id": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "role": {
            "$ref": "#/components/schemas/Role"
          },
          "secretHash": {
            "type": "string",
            "description": "Always empty in answers."
          },
          "createdAt": {
            "type": "string",
            "format": "date-time",
            "description": "When."
          },
          "createdBy": {
            "type": "string"
          },
          "revokedAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it was revoked; absent while valid."
          }
        },
        "required": [
          "createdAt",
          "createdBy",
          "id",
          "name",
          "role",
          "secretHash"
        ]
      },
      "TokenList": {
        "type": "object",
        "properties": {
          "tokens": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TokenRecord"
            }
          }
        },
        "required": [
          "tokens"
        ]
      },
      "DatasetColumn": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "type": {
            "type": "string"
          }
        },
        "required": [
          "name",
          "type"
        ]
      },
      "NewDataset": {
        "type": "object",
        "description": "What registering a dataset stores.",
        "properties": {
          "name": {
            "type": "string",
            "description": "The tracked path, such as `data/train.csv`."
          },
          "digest": {
            "$ref": "#/components/schemas/Digest"
          },
          "kind": {
            "type": "string",
            "enum": [
              "file",
              "folder"
            ]
          },
          "size": {
            "type": "integer",
            "minimum": 0
          },
          "files": {
            "type": "integer",
            "minimum": 0
          },
          "rows": {
            "type": "integer",
            "minimum": 0
          },
          "columns": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/DatasetColumn"
            }
          },
          "timeColumn": {
            "type": "string"
          },
          "dateFrom": {
            "type": "string"
          },
          "dateTo": {
            "type": "string"
          },
          "description": {
            "type": "string"
          }
        },
        "required": [
          "name",
          "digest",
          "kind",
          "size",
          "files",
          "columns"
        ]
      },
      "Dataset": {
        "type": "object",
        "description": "A registered dataset.",
        "properties": {
          "name": {
            "type": "string",
            "description": "The tracked path, such as `data/train.csv`."
          },
          "digest": {
            "$ref": "#/components/schemas/Digest"
          },
          "kind": {
            "type": "string",
            "enum": [
              "file",
              "folder"
            ]
          },
          "size": {
            "type": "integer",
            "minimum": 0
          },
          "files": {
            "type": "integer",
            "minimum": 0
          },
          "rows": {
            "type": "integer",
            "minimum": 0
          },
          "columns": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/DatasetColumn"
            }
          },
          "timeColumn": {
            "type": "string"
          },
          "dateFrom": {
            "type": "string"
          },
          "dateTo": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "createdBy": {
            "type": "string"
          }
        },
        "required": [
          "name",
          "digest",
          "kind",
          "size",
          "files",
          "columns",
          "createdAt",
          "createdBy"
        ]
      },
      "DatasetList": {
        "type": "object",
        "properties": {
          "datasets": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Dataset"
            }
          }
        },
        "required": [
          "datasets"
        ]
      },
      "IssuedToken": {
        "type": "object",
        "description": "A new token and its secret.",
        "properties": {
          "token": {
            "type": "string",
            "description": "The secret (`slw_…`), shown only now."
          },
          "id": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "role": {
            "$ref": "#/components/schemas/Role"
          }
        },
        "required": [
          "id",
          "name",
          "role",
          "token"
        ]
      },
      "ModelPage": {
        "type": "object",
        "description": "A page of models.",
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/RegisteredModel"
            }
          },
          "nextPageToken": {
            "type": "string",
            "description": "Pass as `pageToken` for the next page; absent on the last."
          }
        },
        "required": [
          "items"
        ]
      },
      "ModelVersionPage": {
        "type": "object",
        "description": "A page of versions.",
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ModelVersion"
            }
          },
          "nextPageToken": {
            "type": "string",
            "description": "Pass as `pageToken` for the next page; absent on the last."
          }
        },
        "required": [
          "items"
        ]
      },
      "AliasEventList": {
        "type": "object",
        "properties": {
          "events": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/AliasEvent"
            }
          }
        },
        "required": [
          "events"
        ]
      },
      "ApprovalList": {
        "type": "object",
        "properties": {
          "events": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Approval"
            }
          }
        },
        "required": [
          "events"
        ]
      },
      "AuditEventList": {
        "type": "object",
        "properties": {
          "events": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/AuditEvent"
            }
          }
        },
        "required": [
          "events"
        ]
      },
      "CreateModelRequest": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$",
            "description": "Letters, digits, `_`, `-`, `.`; starts with a letter or digit; no `..`."
          },
          "description": {
            "type": "string"
          },
          "tags": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Tag key → value."
          }
        },
        "required": [
          "name"
        ]
      },
      "DescriptionRequest": {
        "type": "object",
        "properties": {
          "description": {
            "type": "string",
            "description": "The new description (at most 5,000 bytes)."
          }
        },
        "required": [
          "description"
        ]
      },
      "RenameRequest": {
        "type": "object",
        "properties": {
          "newName": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
          }
        },
        "required": [
          "newName"
        ]
      },
      "TagValueRequest": {
        "type": "object",
        "properties": {
          "value": {
            "type": "string",
            "description": "At most 5,000 bytes."
          }
        },
        "required": [
          "value"
        ]
      },
      "CreateVersionRequest": {
        "type": "object",
        "properties": {
          "source": {
            "type": "string",
            "description": "Where the artifact came from."
          },
          "runId": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "tags": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            },
            "description": "Tag key → value."
          },
          "lineage": {
            "$ref": "#/components/schemas/Lineage"
          },
          "artifactDigest": {
            "type": "string",
            "pattern": "^(sha256:)?[0-9a-fA-F]{64}$",
            "description": "An artifact already uploaded with `PUT /api/v1/artifacts/{digest}`."
          }
        }
      },
      "SetAliasRequest": {
        "type": "object",
        "properties": {
          "version": {
            "type": "integer",
            "description": "The version number.",
            "minimum": 1
          },
          "reason": {
            "type": "string",
            "description": "Why, for the history."
          }
        },
        "required": [
          "version"
        ]
      },
      "ApproveRequest": {
        "type": "object",
        "properties": {
          "stage": {
            "type": "string",
            "description": "The stage the approval is for."
          },
          "comment": {
            "type": "string"
          }
        },
        "required": [
          "stage"
        ]
      },
      "TransitionRequest": {
        "type": "object",
        "properties": {
          "stage": {
            "type": "string",
            "description": "The target stage."
          },
          "archiveExisting": {
            "type": "boolean",
            "description": "Move the model's other versions in that stage to Archived."
          }
        },
        "required": [
          "stage"
        ]
      },
      "CreateTokenRequest": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 250
          },
          "role": {
            "$ref": "#/components/schemas/Role"
          }
        },
        "required": [
          "name",
          "role"
        ]
      },
      "StickyKey": {
        "type": "string",
        "description": "`header:NAME`, `cookie:NAME` or `json:FIELD` (a bare name means a header).",
        "minLength": 1
      },
      "EndpointSettings": {
        "type": "object",
        "properties": {
          "stickyKey": {
            "$ref": "#/components/schemas/StickyKey"
          },
          "maxBodyBytes": {
            "type": "integer"
          },
          "timeoutSeconds": {
            "type": "number"
          },
          "featureLogging": {
            "type": "string",
            "enum": [
              "off",
              "hashed",
              "full"
            ]
          }
        },
        "required": [
          "stickyKey",
          "maxBodyBytes",
          "timeoutSeconds",
          "featureLogging"
        ]
      },
      "TrafficSplit": {
        "type": "object",
        "description": "The owner of each of 10,000 buckets, as runs `[start, end, variantIndex]`.",
        "properties": {
          "variants": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "ranges": {
            "type": "array",
            "items": {
              "type": "array",
              "items": {
                "type": "integer"
              }
            }
          }
        },
        "required": [
          "variants",
          "ranges"
        ]
      },
      "HeaderRoute": {
        "type": "object",
        "properties": {
          "header": {
            "type": "string"
          },
          "value": {
            "type": "string"
          },
          "variant": {
            "type": "string"
          }
        },
        "required": [
          "header",
          "value",
          "variant"
        ]
      },
      "MirrorRule": {
        "type": "object",
        "properties": {
          "variant": {
            "type": "string"
          },
          "percent": {
            "type": "number"
          }
        },
        "required": [
          "variant",
          "percent"
        ]
      },
      "TrafficPolicy": {
        "type": "object",
        "properties": {
          "split": {
            "$ref": "#/components/schemas/TrafficSplit"
          },
          "headerRoutes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/HeaderRoute"
            }
          },
          "mirrors": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/MirrorRule"
            }
          },
          "pinHeader": {
            "type": "string"
          },
          "stableVariant": {
            "type": "string"
          }
        },
        "required": [
          "split",
          "headerRoutes",
          "mirrors",
          "pinHeader"
        ]
      },
      "BackendSpec": {
        "type": "object",
        "description": "`{\"kind\": \"url\", \"url\": \"http://…\"}`, `{\"kind\": \"command\", \"command\": \"…\"}` or `{\"kind\": \"builtin\"}`.",
        "properties": {
          "kind": {
            "type": "string",
            "enum": [
              "url",
              "command",
              "builtin"
            ]
          },
          "url": {
            "type": "string"
          },
          "modelName": {
            "type": "string"
          },
          "command": {
            "type": "string"
          }
        },
        "required": [
          "kind"
        ]
      },
      "Deployment": {
        "type": "object",
        "properties": {
          "endpoint": {
            "type": "string"
          },
          "variant": {
            "type": "string"
          },
          "model": {
            "type": "string"
          },
          "version": {
            "type": "integer"
          },
          "backend": {
            "$ref": "#/components/schemas/BackendSpec"
          },
          "replicas": {
            "type": "integer"
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "createdBy": {
            "type": "string"
          }
        },
        "required": [
          "endpoint",
          "variant",
          "model",
          "version",
          "backend",
          "replicas",
          "createdAt",
          "createdBy"
        ]
      },
      "Endpoint": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "settings": {
            "$ref": "#/components/schemas/EndpointSettings"
          },
          "policy": {
            "$ref": "#/components/schemas/TrafficPolicy"
          },
          "deployments": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Deployment"
            }
          },
          "revision": {
            "type": "integer"
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "updatedAt": {
            "type": "string",
            "format": "date-time"
          },
          "createdBy": {
            "type": "string"
          }
        },
        "required": [
          "name",
          "description",
          "settings",
          "policy",
          "deployments",
          "revision",
          "createdAt",
          "updatedAt",
          "createdBy"
        ]
      },
      "VariantMetrics": {
        "type": "object",
        "description": "What the gateway has seen of one variant since it started, with its last 60 seconds.",
        "properties": {
          "requests": {
            "type": "number"
          },
          "errors": {
            "type": "number"
          },
          "errorRate": {
            "type": "number"
          },
          "latencyP50Ms": {
            "type": "number"
          },
          "latencyP95Ms": {
            "type": "number"
          },
          "latencyP99Ms": {
            "type": "number"
          },
          "mirrored": {
            "type": "number",
            "description": "Copies of requests mirrored to this variant."
          },
          "predictions": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 0
            },
            "description": "Answers per predicted class or value (at most 50 labels, the rest under 'other')."
          },
          "outcomeCount": {
            "type": "integer",
            "minimum": 0,
            "description": "Feedback received with a numeric outcome for this variant's answers."
          },
          "outcomeMean": {
            "type": "number",
            "description": "The mean of those outcomes; absent when there is none."
          },
          "window": {
            "$ref": "#/components/schemas/VariantWindow"
          }
        },
        "required": [
          "requests",
          "errors",
          "errorRate",
          "latencyP50Ms",
          "latencyP95Ms",
          "latencyP99Ms",
          "mirrored",
          "predictions",
          "outcomeCount"
        ]
      },
      "VariantWindow": {
        "type": "object",
        "description": "What one variant did during a recent window of whole 10-second buckets (the newest still filling).",
        "properties": {
          "seconds": {
            "type": "integer",
            "minimum": 0,
            "description": "The window's length in seconds (10 to 600)."
          },
          "requests": {
            "type": "integer",
            "minimum": 0,
            "description": "Answers users got from this variant (mirrored answers are under 'mirror')."
          },
          "errors": {
            "type": "integer",
            "minimum": 0
          },
          "errorRate": {
            "type": "number"
          },
          "latencyP50Ms": {
            "type": "number"
          },
          "latencyP95Ms": {
            "type": "number"
          },
          "latencyP99Ms": {
            "type": "number"
          },
          "predictions": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 0
            },
            "description": "Answers per predicted class or value (at most 50 labels per variant, the rest under 'other')."
          },
          "outcomes": {
            "$ref": "#/components/schemas/OutcomeStatistics"
          },
          "mirror": {
            "$ref": "#/components/schemas/MirrorStatistics"
          }
        },
        "required": [
          "seconds",
          "requests",
          "errors",
          "errorRate",
          "latencyP50Ms",
          "latencyP95Ms",
          "latencyP99Ms",
          "predictions",
          "outcomes"
        ]
      },
      "OutcomeStatistics": {
        "type": "object",
        "description": "Sufficient statistics of the feedback posted for a variant's answers.",
        "properties": {
          "count": {
            "type": "integer",
            "minimum": 0,
            "description": "Feedback with a numeric outcome."
          },
          "sum": {
            "type": "number"
          },
          "sumOfSquares": {
            "type": "number"
          },
          "mean": {
            "type": "number",
            "description": "Absent when count is 0."
          },
          "correct": {
            "type": "integer",
            "minimum": 0,
            "description": "Feedback whose ground truth equals the logged prediction."
          },
          "incorrect": {
            "type": "integer",
            "minimum": 0
          },
          "accuracy": {
            "type": "number",
            "description": "correct / (correct + incorrect); absent when both are 0."
          }
        },
        "required": [
          "count",
          "sum",
          "sumOfSquares",
          "correct",
          "incorrect"
        ]
      },
      "MirrorStatistics": {
        "type": "object",
        "description": "A variant's answers to mirrored copies, and how often they agreed with the answer users got.",
        "properties": {
          "sent": {
            "type": "integer",
            "minimum": 0
          },
          "answers": {
            "type": "integer",
            "minimum": 0
          },
          "errors": {
            "type": "integer",
            "minimum": 0
          },
          "errorRate": {
            "type": "number"
          },
          "latencyP50Ms": {
            "type": "number"
          },
          "latencyP95Ms": {
            "type": "number"
          },
          "latencyP99Ms": {
            "type": "number"
          },
          "predictions": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 0
            }
          },
          "compared": {
            "type": "integer",
            "minimum": 0,
            "description": "Mirrored answers whose prediction could be compared with the primary's."
          },
          "agreed": {
            "type": "integer",
            "minimum": 0
          },
          "agreementRate": {
            "type": "number",
            "description": "agreed / compared; absent when nothing was compared."
          }
        },
        "required": [
          "sent",
          "answers",
          "errors",
          "errorRate",
          "latencyP50Ms",
          "latencyP95Ms",
          "latencyP99Ms",
          "predictions",
          "compared",
          "agreed"
        ]
      },
      "EndpointStatus": {
        "type": "object",
        "properties": {
          "endpoint": {
            "$ref": "#/components/schemas/Endpoint"
          },
          "weights": {
            "type": "object",
            "additionalProperties": {
              "type": "number"
            }
          },
          "live": {
            "type": "object",
            "additionalProperties": {
              "$ref": "#/components/schemas/VariantMetrics"
            }
          },
          "backends": {
            "type": "object",
            "description": "The supervised replicas of variants served by a command or the built-in model server, by variant; absent when the endpoint has none.",
            "additionalProperties": {
              "$ref": "#/components/schemas/BackendStatus"
            }
          }
        },
        "required": [
          "endpoint",
          "weights",
          "live"
        ]
      },
      "BackendStatus": {
        "type": "object",
        "description": "What the server runs for one variant whose backend is a command or the built-in model server.",
        "properties": {
          "kind": {
            "type": "string",
            "enum": [
              "command",
              "builtin"
            ]
          },
          "command": {
            "type": "string",
            "description": "The shell command of a command backend."
          },
          "modelVersion": {
            "type": "string",
            "description": "The deployed MODEL@VERSION."
          },
          "desiredReplicas": {
            "type": "integer",
            "minimum": 0
          },
          "readyReplicas": {
            "type": "integer",
            "minimum": 0,
            "description": "Replicas in the gateway's routing table now."
          },
          "servingModelVersion": {
            "type": "string",
            "description": "The MODEL@VERSION the gateway routes to; during a redeploy the previous one until the new replicas are ready."
          },
          "modelDir": {
            "type": "string",
            "description": "Where the version's artifact is materialised ($MODEL_DIR)."
          },
          "problem": {
            "type": "string",
            "description": "Why no replica can start, e.g. a version without a stored artifact."
          },
          "replicas": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ReplicaStatus"
            }
          }
        },
        "required": [
          "kind",
          "modelVersion",
          "desiredReplicas",
          "readyReplicas",
          "replicas"
        ]
      },
      "ReplicaStatus": {
        "type": "object",
        "description": "One supervised model-server process.",
        "properties": {
          "slot": {
            "type": "integer",
            "minimum": 0
          },
          "modelVersion": {
            "type": "string"
          },
          "state": {
            "type": "string",
            "enum": [
              "waiting",
              "starting",
              "ready",
              "draining",
              "stopping"
            ]
          },
          "ready": {
            "type": "boolean",
            "description": "Whether it answers GET /v2/health/ready (state is ready)."
          },
          "serving": {
            "type": "boolean",
            "description": "Whether the gateway routes requests to it."
          },
          "pid": {
            "type": "integer",
            "description": "The process id, which is also its process group id."
          },
          "port": {
            "type": "integer",
            "description": "The port it listens on ($PORT)."
          },
          "restarts": {
            "type": "integer",
            "minimum": 0
          },
          "startedAt": {
            "type": "string",
            "format": "date-time"
          },
          "lastExit": {
            "$ref": "#/components/schemas/ReplicaExit"
          },
          "backoffSeconds": {
            "type": "number",
            "description": "The delay before the pending or latest restart: 0.5 s doubling up to 30 s, reset after a minute up."
          },
          "nextRestartAt": {
            "type": "string",
            "format": "date-time"
          },
          "logFile": {
            "type": "string",
            "description": "The file its stdout and stderr go to."
          }
        },
        "required": [
          "slot",
          "modelVersion",
          "state",
          "ready",
          "serving",
          "restarts",
          "logFile"
        ]
      },
      "ReplicaExit": {
        "type": "object",
        "description": "How a replica process ended.",
        "properties": {
          "code": {
            "type": "integer"
          },
          "signal": {
            "type": "integer"
          },
          "reason": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time"
          }
        },
        "required": [
          "reason",
          "at"
        ]
      },
      "EndpointList": {
        "type": "object",
        "properties": {
          "endpoints": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Endpoint"
            }
          }
        },
        "required": [
          "endpoints"
        ]
      },
      "CreateEndpointRequest": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "stickyKey": {
            "$ref": "#/components/schemas/StickyKey"
          },
          "maxBodyBytes": {
            "type": "integer"
          },
          "timeoutSeconds": {
            "type": "number"
          },
          "featureLogging": {
            "type": "string",
            "enum": [
              "off",
              "hashed",
              "full"
            ]
          },
          "initialVariant": {
            "type": "string"
          }
        },
        "required": [
          "name"
        ]
      },
      "DeployRequest": {
        "type": "object",
        "properties": {
          "model": {
            "type": "string",
            "description": "MODEL@VERSION or MODEL@ALIAS"
          },
          "backend": {
            "$ref": "#/components/schemas/BackendSpec"
          },
          "replicas": {
            "type": "integer"
          }
        },
        "required": [
          "model",
          "backend"
        ]
      },
      "SetWeightsRequest": {
        "type": "object",
        "properties": {
          "weights": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "variant": {
                  "type": "string"
                },
                "weight": {
                  "type": "number"
                }
              },
              "required": [
                "variant",
                "weight"
              ]
            }
          }
        },
        "required": [
          "weights"
        ]
      },
      "SwitchRequest": {
        "type": "object",
        "properties": {
          "variant": {
            "type": "string"
          }
        },
        "required": [
          "variant"
        ]
      },
      "MirrorRequest": {
        "type": "object",
        "properties": {
          "variant": {
            "type": "string"
          },
          "percent": {
            "type": "number"
          }
        },
        "required": [
          "variant",
          "percent"
        ]
      },
      "RouteRequest": {
        "type": "object",
        "properties": {
          "header": {
            "type": "string"
          },
          "value": {
            "type": "string"
          },
          "variant": {
            "type": "string"
          }
        },
        "required": [
          "header",
          "value"
        ]
      },
      "PredictionRecord": {
        "type": "object",
        "description": "One answer the gateway gave (or a mirrored copy of one), as the prediction log keeps it.",
        "properties": {
          "requestId": {
            "type": "string",
            "description": "The request's `X-Request-Id`."
          },
          "timestamp": {
            "type": "string",
            "format": "date-time"
          },
          "endpoint": {
            "type": "string"
          },
          "variant": {
            "type": "string"
          },
          "modelVersion": {
            "type": "string",
            "description": "`model@version` of the variant that answered."
          },
          "stickyKey": {
            "type": "string",
            "description": "The request's sticky key, if it had one."
          },
          "kind": {
            "type": "string",
            "enum": [
              "primary",
              "mirror"
            ],
            "description": "`primary` for the answer the client got, `mirror` for a mirrored copy (compared, never returned)."
          },
          "features": {
            "type": "string",
            "description": "The request's inputs as the endpoint's feature logging keeps them: a SHA-256 (`hashed`) or their JSON (`full`); absent when off."
          },
          "prediction": {
            "type": "string",
            "description": "The first output's first value as text (a class label or a number), if readable."
          },
          "confidence": {
            "type": "number",
            "description": "The probability of the predicted class, if the answer carried one."
          },
          "latencyMs": {
            "type": "number"
          },
          "status": {
            "type": "integer",
            "description": "The HTTP status of the answer."
          },
          "feedback": {
            "$ref": "#/components/schemas/Feedback"
          }
        },
        "required": [
          "requestId",
          "timestamp",
          "endpoint",
          "variant",
          "modelVersion",
          "kind",
          "latencyMs",
          "status"
        ]
      },
      "Feedback": {
        "type": "object",
        "description": "Ground truth and/or an outcome attached to an answer after the fact.",
        "properties": {
          "groundTruth": {
            "type": "string",
            "description": "The true label, as text."
          },
          "outcome": {
            "type": "number",
            "description": "A numeric outcome: a conversion as 0 or 1, a revenue, a rating."
          },
          "receivedAt": {
            "type": "string",
            "format": "date-time"
          },
          "by": {
            "type": "string",
            "description": "The principal that posted it."
          }
        },
        "required": [
          "receivedAt",
          "by"
        ]
      },
      "FeedbackRequest": {
        "type": "object",
        "description": "Feedback for one request: groundTruth, outcome or both.",
        "properties": {
          "requestId": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "description": "The `X-Request-Id` the gateway answered with (at most 128 bytes)."
          },
          "groundTruth": {
            "anyOf": [
              {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096
              },
              {
                "type": "number"
              }
            ],
            "description": "The true label; a number is kept as text (`1`, `0.5`). At most 4,096 bytes."
          },
          "outcome": {
            "type": "number",
            "description": "A numeric outcome: a conversion as 0 or 1, a revenue, a rating."
          }
        },
        "required": [
          "requestId"
        ]
      },
      "FeedbackBatchRequest": {
        "type": "object",
        "description": "Feedback for up to 1,000 requests, each answered on its own.",
        "properties": {
          "feedback": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
              "$ref": "#/components/schemas/FeedbackRequest"
            }
          }
        },
        "required": [
          "feedback"
        ]
      },
      "FeedbackResult": {
        "type": "object",
        "description": "What became of one item of a batch: the updated record, or the item's error.",
        "properties": {
          "requestId": {
            "type": "string"
          },
          "record": {
            "$ref": "#/components/schemas/PredictionRecord"
          },
          "error": {
            "type": "object",
            "properties": {
              "code": {
                "type": "string",
                "enum": [
                  "invalid_argument",
                  "not_found"
                ]
              },
              "message": {
                "type": "string"
              }
            },
            "required": [
              "code",
              "message"
            ]
          }
        },
        "required": [
          "requestId"
        ]
      },
      "FeedbackResults": {
        "type": "object",
        "description": "One result per item of a feedback batch, in the items' order.",
        "properties": {
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/FeedbackResult"
            }
          }
        },
        "required": [
          "results"
        ]
      },
      "PredictionPage": {
        "type": "object",
        "description": "A page of the prediction log.",
        "properties": {
          "predictions": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/PredictionRecord"
            }
          },
          "nextPageToken": {
            "type": "string",
            "description": "Pass as `pageToken` for the next page; absent on the last."
          }
        },
        "required": [
          "predictions"
        ]
      },
      "StartRolloutRequest": {
        "type": "object",
        "description": "`yaml` (with the `file` name for diagnostics), or a `spec` in the YAML's shape with its `templates`.",
        "properties": {
          "yaml": {
            "type": "string"
          },
          "file": {
            "type": "string"
          },
          "spec": {
            "type": "object"
          },
          "templates": {
            "type": "array",
            "items": {
              "type": "object"
            }
          }
        }
      },
      "PromoteRolloutRequest": {
        "type": "object",
        "properties": {
          "full": {
            "type": "boolean",
            "description": "Send all traffic to the candidate now and finish."
          }
        }
      },
      "AbortRolloutRequest": {
        "type": "object",
        "properties": {
          "reason": {
            "type": "string",
            "description": "Why, for the history."
          }
        }
      },
      "RolloutPhase": {
        "type": "string",
        "enum": [
          "Progressing",
          "Paused",
          "Healthy",
          "Degraded"
        ]
      },
      "RolloutStatus": {
        "type": "object",
        "description": "A rollout as the controller left it, with the endpoint's weights now.",
        "properties": {
          "name": {
            "type": "string"
          },
          "endpoint": {
            "type": "string"
          },
          "phase": {
            "$ref": "#/components/schemas/RolloutPhase"
          },
          "reason": {
            "type": "string",
            "description": "Why it is in its phase."
          },
          "step": {
            "type": "integer",
            "minimum": 0,
            "description": "The index of the current step (equal to stepCount once past the last)."
          },
          "stepCount": {
            "type": "integer",
            "minimum": 0
          },
          "currentStep": {
            "type": "string",
            "description": "The current step in YAML's words; absent past the last."
          },
          "strategy": {
            "type": "string"
          },
          "candidate": {
            "type": "string",
            "description": "`model@version`, resolved at start."
          },
          "candidateVariant": {
            "type": "string"
          },
          "stableVariant": {
            "type": "string"
          },
          "candidateWeight": {
            "type": "number",
            "description": "The candidate's weight the controller last applied, in percent."
          },
          "weights": {
            "type": "object",
            "additionalProperties": {
              "type": "number"
            },
            "description": "The endpoint's weights now, in percent per variant."
          },
          "pauseUntil": {
            "type": "string",
            "format": "date-time",
            "description": "The deadline of the current timed pause."
          },
          "analysis": {
            "$ref": "#/components/schemas/RolloutAnalysis"
          },
          "spec": {
            "type": "object",
            "description": "The spec, in the shape of the YAML."
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "updatedAt": {
            "type": "string",
            "format": "date-time"
          },
          "createdBy": {
            "type": "string"
          },
          "revision": {
            "type": "integer",
            "minimum": 1
          }
        },
        "required": [
          "name",
          "endpoint",
          "phase",
          "reason",
          "step",
          "stepCount",
          "strategy",
          "candidate",
          "candidateVariant",
          "stableVariant",
          "candidateWeight",
          "weights",
          "spec",
          "createdAt",
          "updatedAt",
          "createdBy",
          "revision"
        ]
      },
      "RolloutAnalysis": {
        "type": "object",
        "description": "The analysis of the current step, or the last one that ended.",
        "properties": {
          "phase": {
            "type": "string",
            "enum": [
              "Pending",
              "Running",
              "Successful",
              "Inconclusive",
              "Error",
              "Failed"
            ]
          },
          "message": {
            "type": "string"
          },
          "current": {
            "type": "boolean"
          },
          "startedAt": {
            "type": "string",
            "format": "date-time"
          },
          "metrics": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/RolloutMetric"
            }
          }
        },
        "required": [
          "phase",
          "current",
          "metrics"
        ]
      },
      "RolloutMetric": {
        "type": "object",
        "description": "One analysis metric: its verdict, counts and latest measurements.",
        "properties": {
          "name": {
            "type": "string"
          },
          "phase": {
            "type": "string",
            "enum": [
              "Pending",
              "Running",
              "Successful",
              "Inconclusive",
              "Error",
              "Failed"
            ]
          },
          "successful": {
            "type": "integer"
          },
          "failed": {
            "type": "integer"
          },
          "inconclusive": {
            "type": "integer"
          },
          "error": {
            "type": "integer"
          },
          "message": {
            "type": "string"
          },
          "latest": {
            "type": "array",
            "items": {
              "type": "object",
              "description": "`phase`, `value` (what the conditions saw), `message`, `at` (seconds since the analysis started)."
            }
          }
        },
        "required": [
          "name",
          "phase",
          "successful",
          "failed",
          "inconclusive",
          "error",
          "latest"
        ]
      },
      "RolloutList": {
        "type": "object",
        "properties": {
          "rollouts": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/RolloutStatus"
            }
          }
        },
        "required": [
          "rollouts"
        ]
      },
      "RolloutTransition": {
        "type": "object",
        "description": "One transition, kept forever.",
        "properties": {
          "id": {
            "type": "integer"
          },
          "rollout": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time"
          },
          "actor": {
            "type": "string"
          },
          "action": {
            "type": "string",
            "description": "`rollout.start`, `rollout.deploy`, `rollout.step`, `rollout.wait`, `rollout.analysis`, `rollout.pause`, `rollout.resume`, `rollout.promote`, `rollout.abort`, `rollout.retry`, `rollout.undo`, `rollout.complete`; blue-green adds `rollout.preview` and `rollout.switch`, experiments `rollout.plan`, rolling updates `rollout.scale` and `rollout.replicas`."
          },
          "fromPhase": {
            "$ref": "#/components/schemas/RolloutPhase"
          },
          "toPhase": {
            "$ref": "#/components/schemas/RolloutPhase"
          },
          "fromStep": {
            "type": "integer"
          },
          "step": {
            "type": "integer"
          },
          "reason": {
            "type": "string"
          }
        },
        "required": [
          "id",
          "rollout",
          "at",
          "actor",
          "action",
          "toPhase",
          "step",
          "reason"
        ]
      },
      "RolloutHistory": {
        "type": "object",
        "properties": {
          "history": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/RolloutTransition"
            }
          }
        },
        "required": [
          "history"
        ]
      },
      "Runner": {
        "type": "object",
        "description": "A registered pipeline runner.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^rnr_[0-9a-f]{32}$",
            "description": "The runner's id."
          },
          "name": {
            "type": "string",
            "description": "The name it registered with."
          },
          "labels": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Its labels, lower-cased."
          },
          "ephemeral": {
            "type": "boolean",
            "description": "It takes one job, and is removed once that job ends."
          },
          "state": {
            "type": "string",
            "enum": [
              "idle",
              "busy",
              "offline"
            ],
            "description": "`offline` once nothing was heard from it for 60 seconds."
          },
          "job": {
            "type": "string",
            "description": "The id of the job it runs; absent while it runs none."
          },
          "registeredAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it registered."
          },
          "lastSeenAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it last called the server."
          },
          "jobsTaken": {
            "type": "integer",
            "minimum": 0,
            "description": "How many jobs it has taken."
          }
        },
        "required": [
          "ephemeral",
          "id",
          "jobsTaken",
          "labels",
          "lastSeenAt",
          "name",
          "registeredAt",
          "state"
        ]
      },
      "RunnerList": {
        "type": "object",
        "properties": {
          "runners": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Runner"
            }
          }
        },
        "required": [
          "runners"
        ]
      },
      "RegisterRunnerRequest": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": "^[^\\s\\u0000][^\\n\\r\\u000b\\u000c\\u0085\\u2028\\u2029\\u0000]*$",
            "description": "The runner's name, on one line (e.g. its host)."
          },
          "labels": {
            "type": "array",
            "maxItems": 32,
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 64,
              "pattern": "^[A-Za-z0-9_.-]+$",
              "description": "Letters, digits, `-`, `_`, `.`; at most 64; compared lower-cased."
            },
            "description": "What it offers, e.g. `[\"self-hosted\", \"gpu\"]`: it takes the jobs whose labels it all has."
          },
          "ephemeral": {
            "type": "boolean",
            "default": false,
            "description": "Take one job, then be removed."
          }
        },
        "required": [
          "labels",
          "name"
        ]
      },
      "PipelineJobAssignment": {
        "type": "object",
        "description": "A job as the runner that takes it gets it.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^job_[0-9a-f]{32}$",
            "description": "The job's id."
          },
          "name": {
            "type": "string",
            "description": "The job's name."
          },
          "payload": {
            "type": "string",
            "description": "The payload given at submission: a JSON object, as text."
          }
        },
        "required": [
          "id",
          "name",
          "payload"
        ]
      },
      "NextPipelineJob": {
        "type": "object",
        "properties": {
          "job": {
            "$ref": "#/components/schemas/PipelineJobAssignment"
          }
        },
        "required": [
          "job"
        ]
      },
      "SubmitPipelineJobRequest": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": "^[^\\s\\u0000][^\\n\\r\\u000b\\u000c\\u0085\\u2028\\u2029\\u0000]*$",
            "description": "The job's name, on one line."
          },
          "run": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": "^[^\\s\\u0000][^\\n\\r\\u000b\\u000c\\u0085\\u2028\\u2029\\u0000]*$",
            "description": "The id of the run the job belongs to, on one line."
          },
          "labels": {
            "type": "array",
            "maxItems": 32,
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 64,
              "pattern": "^[A-Za-z0-9_.-]+$",
              "description": "Letters, digits, `-`, `_`, `.`; at most 64; compared lower-cased."
            },
            "description": "The labels a runner needs, all of them (`runs-on`)."
          },
          "payload": {
            "type": "string",
            "description": "What the runner needs to run the job: a JSON object, as text. Only that runner sees it.",
            "examples": [
              "{\"steps\": [{\"run\": \"echo hello\"}]}"
            ]
          }
        },
        "required": [
          "labels",
          "name",
          "payload",
          "run"
        ]
      },
      "PipelineJobStatus": {
        "type": "object",
        "description": "A pipeline job as its run follows it; never its payload.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^job_[0-9a-f]{32}$",
            "description": "The job's id."
          },
          "name": {
            "type": "string"
          },
          "run": {
            "type": "string",
            "description": "The run it belongs to."
          },
          "labels": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "The labels a runner needs, lower-cased."
          },
          "state": {
            "type": "string",
            "enum": [
              "queued",
              "running",
              "completed",
              "cancelled"
            ],
            "description": "`cancelled` only for a job cancelled while queued (by a cancel call, or because nothing asked about it for 120 seconds); a running job that is cancelled completes when its runner posts the result."
          },
          "runner": {
            "type": "string",
            "description": "The name of the runner that took it; absent while queued."
          },
          "waitingReason": {
            "type": "string",
            "description": "Why a queued job waits (no runner with its labels, or all busy)."
          },
          "cancelRequested": {
            "type": "boolean",
            "description": "Whether it was cancelled."
          },
          "createdAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it was submitted."
          },
          "startedAt": {
            "type": "string",
            "format": "date-time",
            "description": "When a runner took it."
          },
          "finishedAt": {
            "type": "string",
            "format": "date-time",
            "description": "When it ended."
          },
          "lines": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "The streamed lines from `after` on."
          },
          "next": {
            "type": "integer",
            "minimum": 0,
            "description": "The `after` to ask with next: the number of lines streamed so far."
          },
          "result": {
            "type": "string",
            "description": "The runner's result (a JSON object, as text) once completed."
          },
          "error": {
            "type": "string",
            "description": "Why the job ended without a result from its runner (runner removed or silent, cancelled while queued, no longer followed)."
          }
        },
        "required": [
          "cancelRequested",
          "createdAt",
          "id",
          "labels",
          "lines",
          "name",
          "next",
          "run",
          "state"
        ]
      },
      "AppendPipelineJobLinesRequest": {
        "type": "object",
        "properties": {
          "runner": {
            "type": "string",
            "description": "The id of the runner that runs the job."
          },
          "lines": {
            "type": "array",
            "maxItems": 5000,
            "items": {
              "type": "string"
            },
            "description": "Output lines, without their line ends; each at most 262,144 bytes."
          }
        },
        "required": [
          "lines",
          "runner"
        ]
      },
      "AppendPipelineJobLinesAnswer": {
        "type": "object",
        "properties": {
          "cancelled": {
            "type": "boolean",
            "description": "The job was cancelled: stop it and post its result."
          }
        },
        "required": [
          "cancelled"
        ]
      },
      "CompletePipelineJobRequest": {
        "type": "object",
        "properties": {
          "runner": {
            "type": "string",
            "description": "The id of the runner that ran the job."
          },
          "result": {
            "type": "string",
            "description": "The job's result: a JSON object, as text.",
            "examples": [
              "{\"conclusion\": \"success\", \"outputs\": {}}"
            ]
          }
        },
        "required": [
          "result",
          "runner"
        ]
      }
    }
  }
}
"""#
}
