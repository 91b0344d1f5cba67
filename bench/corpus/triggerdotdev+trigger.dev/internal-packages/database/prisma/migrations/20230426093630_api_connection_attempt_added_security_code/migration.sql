-- AlterTable
ALTER TABLE "APIConnectionAttempt" ADD COLUMN     "securityCode" TEXT;
